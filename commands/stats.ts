import { queueStats } from '../src/queue/stats.js'
import { renderStats } from '../ui/render-text.js'
import { command } from './actions/io.js'
import { JSON_ONLY } from './flags.js'

export default command(JSON_ONLY, {
  summary: 'Counts per status and per task, queue age, recent throughput, live workers',
  examples: ['<%= config.bin %> stats', "<%= config.bin %> stats --json | jq '.counts.queued'"],
  async run(io, { flags }) {
    const queue = await io.openQueue(flags)
    const stats = await queueStats(queue.backend, queue.settings.heartbeatTimeout)
    if (!io.json) io.log(renderStats(stats))
    return stats
  },
})
