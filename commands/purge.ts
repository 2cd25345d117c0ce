import { parseDuration } from '../src/config.js'
import { UsageError } from '../src/errors.js'
import { isTerminal } from '../src/types.js'
import { command } from './actions/io.js'
import { PURGE } from './flags.js'
import { parseStatuses } from './list.js'

export default command(PURGE, {
  summary: 'Delete old ended tasks (never queued or running ones)',
  examples: [
    '<%= config.bin %> purge',
    '<%= config.bin %> purge --older-than 7d --status completed,failed,cancelled --dry-run',
  ],
  async run(io, { flags }) {
    const statuses = parseStatuses(flags.status)!
    const live = statuses.find((s) => !isTerminal(s))
    if (live) throw new UsageError(`--status: purge never deletes ${live} tasks; use completed, failed or cancelled`)
    const olderThanMs = parseDuration(flags['older-than'], '--older-than')
    const queue = await io.openQueue(flags)
    const deleted = await queue.purge({ statuses, olderThanMs, dryRun: flags['dry-run'] })
    if (!io.json)
      io.log(
        `${flags['dry-run'] ? 'Would delete' : 'Deleted'} ${deleted} task${deleted === 1 ? '' : 's'} (${statuses.join(', ')}, older than ${flags['older-than']})`,
      )
    return { deleted, dry_run: flags['dry-run'] }
  },
})
