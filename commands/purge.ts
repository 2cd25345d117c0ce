import { parseDuration } from '../src/config.js'
import { UsageError } from '../src/errors.js'
import { isTerminal } from '../src/types.js'
import { BaseCommand, oclifFlags } from './base.js'
import { PURGE } from './flags.js'

export default class Purge extends BaseCommand {
  static override summary = 'Delete old ended tasks (never queued or running ones)'
  static override examples = [
    '<%= config.bin %> purge',
    '<%= config.bin %> purge --older-than 7d --status completed,failed,cancelled --dry-run',
  ]
  static override enableJsonFlag = PURGE.json
  static override flags = oclifFlags(PURGE.flags)

  async run(): Promise<{ deleted: number; dry_run: boolean }> {
    const { flags } = await this.parse(Purge)
    const statuses = this.parseStatuses(flags.status)!
    const live = statuses.find((s) => !isTerminal(s))
    if (live) throw new UsageError(`--status: purge never deletes ${live} tasks; use completed, failed or cancelled`)
    const olderThanMs = parseDuration(flags['older-than'], '--older-than')
    const queue = await this.openQueue(flags)
    const deleted = await queue.purge({ statuses, olderThanMs, dryRun: flags['dry-run'] })
    if (!this.jsonEnabled()) {
      this.log(
        `${flags['dry-run'] ? 'Would delete' : 'Deleted'} ${deleted} task${deleted === 1 ? '' : 's'} (${statuses.join(', ')}, older than ${flags['older-than']})`,
      )
    }
    return { deleted, dry_run: flags['dry-run'] }
  }
}
