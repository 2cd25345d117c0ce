// Preloaded (node --import) by test/package/light.test.ts: records every module the process resolves,
// one URL per line, in the file named by SQ_TEST_MODULE_LOG. The hooks run off the main thread.
import { register } from 'node:module'

register('./module-log-hooks.mjs', import.meta.url, { data: { file: process.env.SQ_TEST_MODULE_LOG } })
