/** `npm run bench:enqueue [-- --only startup,bulk,single]`: the enqueue rows of the bench, alone. */
import { cleanup } from './env.js'
import { enqueueReport, measureEnqueue, SECTIONS, type Section } from './enqueue.js'

const only = process.argv.indexOf('--only')
const sections =
  only === -1
    ? SECTIONS
    : (process.argv[only + 1] ?? '').split(',').filter((s): s is Section => (SECTIONS as string[]).includes(s))
try {
  const results = await measureEnqueue(sections, (line) => process.stderr.write(`${line}\n`))
  process.stdout.write(`${enqueueReport(results)}\n`)
} finally {
  await cleanup()
}
