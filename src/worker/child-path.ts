/**
 * The task process's entry file, said in one place. It is found beside the module that asks for it,
 * which holds in both builds because scripts/bundle.mjs emits the `child` entry into the same
 * directory as the CLI bundle and its chunks (dist/bundle/child.js), and tsc puts this module beside
 * child.js (dist/src/worker/). Moving either, or giving the bundle's chunks a directory of their own,
 * breaks `sq worker` — change this constant with it.
 */
export const CHILD_ENTRY = new URL('./child.js', import.meta.url)
