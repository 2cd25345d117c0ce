import type { QueueStats } from '../src/queue/stats.js'
import { queueStats } from '../src/queue/stats.js'
import { renderStats } from '../ui/render-text.js'
import { BaseCommand } from './base.js'

export default class Stats extends BaseCommand {
  static override summary = 'Counts per status and per task, queue age, recent throughput, live workers'
  static override examples = ['<%= config.bin %> stats', "<%= config.bin %> stats --json | jq '.counts.queued'"]
  static override enableJsonFlag = true

  async run(): Promise<QueueStats> {
    const { flags } = await this.parse(Stats)
    const queue = await this.openQueue(flags)
    const stats = await queueStats(queue.backend, queue.settings.heartbeatTimeout)
    if (!this.jsonEnabled()) this.log(renderStats(stats))
    return stats
  }
}
