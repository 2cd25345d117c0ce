import { SqError, UsageError } from '../src/errors.js'
import type { CancelResult } from '../src/queue/queue.js'
import { statusLabel } from '../src/types.js'
import { BaseCommand, oclifArgs } from './base.js'
import { CANCEL } from './flags.js'

export default class Cancel extends BaseCommand {
  static override summary = 'Cancel queued or running tasks'
  static override description =
    'A queued task becomes cancelled at once; a running task is stopped by its worker within about a second.'
  static override examples = [
    '<%= config.bin %> cancel 3f2a9c',
    '<%= config.bin %> list --status queued -q | <%= config.bin %> cancel -',
  ]
  static override enableJsonFlag = CANCEL.json
  static override strict = false
  static override args = oclifArgs(CANCEL.args)

  async run(): Promise<CancelResult[]> {
    const { argv, flags } = await this.parse(Cancel)
    const { ids, fromStdin } = await this.idsFrom(argv)
    if (ids.length === 0) {
      // `sq list -q | sq cancel -` with nothing listed: nothing to do, and no failure under `set -e`.
      if (fromStdin) return []
      throw new UsageError('give at least one task id (or - to read ids from stdin)')
    }
    const queue = await this.openQueue(flags)
    const results = await queue.cancel(ids)
    if (!this.jsonEnabled()) {
      for (const r of results)
        this.log(
          r.cancelled
            ? `cancelled ${r.id}${r.was === 'progress' ? ' (was running)' : ''}`
            : `not cancelled ${r.id}: already ${statusLabel(r.status).toLowerCase()}`,
        )
    }
    if (results.some((r) => !r.cancelled)) {
      if (this.jsonEnabled()) this.logJson(results)
      throw new SqError(
        `${results.filter((r) => !r.cancelled).length} of ${results.length} tasks had already ended and were not cancelled`,
      )
    }
    return results
  }
}
