// What every hot command needs, behind ONE dynamic import of the fast path: each import() is a split
// point for esbuild, and every split point adds chunks (each ~1 ms to load) to the command's graph.
export { resolveSettings } from '../../src/config.js'
export { Queue } from '../../src/queue/queue.js'
export { default as enqueue } from '../enqueue.js'
