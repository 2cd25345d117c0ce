import { Args, Flags } from '@oclif/core'
import { SqError, UsageError } from '../src/errors.js'
import { BaseCommand } from './base.js'

export default class Requeue extends BaseCommand {
  static override summary = 'Send ended tasks back to the queue, results cleared'
  static override examples = ['<%= config.bin %> requeue 3f2a9c', '<%= config.bin %> requeue --status failed', '<%= config.bin %> list --status failed -q | <%= config.bin %> requeue -']
  static override enableJsonFlag = true
  static override strict = false
  static override args = { ids: Args.string({ description: 'task ids or unique prefixes; - reads them from stdin' }) }
  static override flags = {
    status: Flags.string({ description: 'requeue every task in these statuses (completed, failed, cancelled)', helpValue: 'S[,S…]' }),
  }

  async run(): Promise<{ requeued: string[] }> {
    const { argv, flags } = await this.parse(Requeue)
    const statuses = this.parseStatuses(flags.status)
    if ((argv.length === 0) === (statuses === undefined)) throw new UsageError('give task ids or --status, not both and not neither')
    const { ids, fromStdin } = await this.idsFrom(argv)
    // `sq list -q | sq requeue -` with nothing listed: nothing to do, and no failure under `set -e`.
    if (fromStdin && ids.length === 0) return { requeued: [] }
    const queue = await this.openQueue(flags)
    const requeued = statuses ? await queue.requeueByStatus(statuses) : await queue.requeue(ids)
    if (!this.jsonEnabled()) this.log(statuses ? `Requeued ${requeued.length} task${requeued.length === 1 ? '' : 's'}` : requeued.map((id) => `requeued ${id}`).join('\n') || 'Nothing requeued: those tasks are queued or running')
    if (!statuses && requeued.length < ids.length) {
      // Like cancelling an ended task: a state found at run time, not bad input (exit 1).
      throw new SqError(`${ids.length - requeued.length} of ${ids.length} tasks are queued or running and were not requeued`)
    }
    return { requeued }
  }
}
