// Preloaded into `sq` (NODE_OPTIONS=--require) by test/commands/fast-path.test.ts: at exit, appends to
// the file named by SQ_TEST_PROBE whether @oclif/core was loaded, so a test can tell which path ran.
const fs = require('node:fs')
const path = require('node:path')

process.on('exit', () => {
  const marker = `${path.sep}@oclif${path.sep}core${path.sep}`
  const loaded = Object.keys(require.cache).some((file) => file.includes(marker))
  fs.appendFileSync(process.env.SQ_TEST_PROBE, loaded ? 'oclif\n' : 'fast\n')
})
