// Preloaded (node --import) by test/package/light.test.ts: records every module the process resolves,
// one URL per line, in the file named by SQ_TEST_MODULE_LOG. The hooks run off the main thread.
// CommonJS modules loaded by require() (the drivers) pass no hook: require's cache is added at exit.
import fs from 'node:fs'
import { createRequire, register } from 'node:module'
import { pathToFileURL } from 'node:url'

const file = process.env.SQ_TEST_MODULE_LOG
register('./module-log-hooks.mjs', import.meta.url, { data: { file } })
process.on('exit', () => {
  const required = Object.keys(createRequire(import.meta.url).cache)
  fs.appendFileSync(file, required.map((f) => `${pathToFileURL(f).href}\n`).join(''))
})
