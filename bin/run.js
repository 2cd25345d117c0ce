#!/usr/bin/env node
// `sq enqueue`, `show`, `list`, `worker` and `--version` on plain input run without loading oclif, which costs
// about as much as node's own start; anything else (help, other commands, a flag oclif must judge)
// goes to oclif. SQ_CLI=oclif sends everything to oclif. See commands/fast/main.ts.
import { runFast } from '../dist/bundle/fast.js'

if (!(await runFast(process.argv.slice(2), new URL('../package.json', import.meta.url)))) {
  const { execute } = await import('@oclif/core')
  await execute({ dir: import.meta.url })
}
