import { SqError, UsageError } from '../src/errors.js'
import { statusLabel } from '../src/types.js'
import { command } from './actions/io.js'
import { idsFrom } from './cancel.js'
import { REQUEUE } from './flags.js'
import { parseStatuses } from './list.js'

export default command(REQUEUE, {
  summary: 'Send ended tasks back to the queue, results cleared',
  examples: [
    '<%= config.bin %> requeue 3f2a9c',
    '<%= config.bin %> requeue --status failed',
    '<%= config.bin %> list --status failed -q | <%= config.bin %> requeue -',
  ],
  strict: false,
  async run(io, { argv, flags }) {
    const statuses = parseStatuses(flags.status)
    if ((argv.length === 0) === (statuses === undefined))
      throw new UsageError('give task ids or --status, not both and not neither')
    const { ids, fromStdin } = await idsFrom(argv)
    if (fromStdin && ids.length === 0) return { requeued: [] }
    const queue = await io.openQueue(flags)
    if (statuses) {
      const requeued = await queue.requeueByStatus(statuses)
      if (!io.json) io.log(`Requeued ${requeued.length} task${requeued.length === 1 ? '' : 's'}`)
      return { requeued }
    }
    const results = await queue.requeueEach(ids)
    const requeued = results.filter((r) => r.requeued).map((r) => r.id)
    const refused = results.flatMap((r) => (r.requeued ? [] : [{ id: r.id, status: r.status }]))
    if (!io.json)
      for (const r of results)
        io.log(r.requeued ? `requeued ${r.id}` : `not requeued ${r.id}: ${statusLabel(r.status).toLowerCase()}`)
    if (refused.length > 0) {
      // Like cancelling an ended task: a state found at run time, not bad input (exit 1).
      if (io.json) io.logJson({ requeued, not_requeued: refused })
      throw new SqError(`${refused.length} of ${results.length} tasks are queued or running and were not requeued`)
    }
    return { requeued }
  },
})
