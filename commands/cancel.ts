import { SqError, UsageError } from '../src/errors.js'
import { readLimited } from '../src/read-limited.js'
import { statusLabel } from '../src/types.js'
import { command } from './actions/io.js'
import { CANCEL } from './flags.js'

/** Bytes of ids `-` reads from stdin at most: ~450,000 ids, while `/dev/zero` cannot exhaust memory. */
const MAX_STDIN_IDS_BYTES = 16 * 1024 * 1024

export default command(CANCEL, {
  summary: 'Cancel queued or running tasks',
  description:
    'A queued task becomes cancelled at once; a running task is stopped by its worker within about a second.',
  examples: [
    '<%= config.bin %> cancel 3f2a9c',
    '<%= config.bin %> list --status queued -q | <%= config.bin %> cancel -',
  ],
  strict: false,
  async run(io, { argv, flags }) {
    const { ids, fromStdin } = await idsFrom(argv)
    if (ids.length === 0) {
      // `sq list -q | sq cancel -` (or requeue) with nothing listed: nothing to do, no failure under `set -e`.
      if (fromStdin) return []
      throw new UsageError('give at least one task id (or - to read ids from stdin)')
    }
    const queue = await io.openQueue(flags)
    const results = await queue.cancel(ids)
    if (!io.json)
      for (const r of results)
        io.log(
          r.cancelled
            ? `cancelled ${r.id}${r.was === 'progress' ? ' (was running)' : ''}`
            : `not cancelled ${r.id}: already ${statusLabel(r.status).toLowerCase()}`,
        )
    const refused = results.filter((r) => !r.cancelled).length
    if (refused > 0) {
      if (io.json) io.logJson(results)
      throw new SqError(`${refused} of ${results.length} tasks had already ended and were not cancelled`)
    }
    return results
  },
})

/** Ids from the arguments, or from stdin (whitespace-separated) when the only one is `-`; `fromStdin` says which. */
export async function idsFrom(argv: string[]): Promise<{ ids: string[]; fromStdin: boolean }> {
  if (argv.length !== 1 || argv[0] !== '-') return { ids: argv, fromStdin: false }
  const read = await readLimited(process.stdin, MAX_STDIN_IDS_BYTES)
  if (read.over)
    throw new UsageError(`stdin holds more than ${MAX_STDIN_IDS_BYTES} bytes; give fewer task ids at a time`)
  return { ids: read.text.split(/\s+/).filter(Boolean), fromStdin: true }
}
