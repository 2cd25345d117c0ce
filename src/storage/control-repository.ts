import { sql } from 'kysely'
import { ACTIVE_STATUSES, isTerminal, TERMINAL_STATUSES } from '../task.js'
import type { Backend } from './backend.js'
import { readChunks } from './task-repository.js'
import { CLEARED_CLAIM, CLEARED_RESULTS } from './task-row.js'
import type { CancelOutcome, RequeueOutcome } from './task-types.js'

/** The error of a run ended by a cancel. A queued task never has it: a cancelled run is not retried. */
export const CANCELLED_BY_USER = 'Cancelled by user'

/**
 * Cancels a queued or running task in ONE conditional UPDATE (undefined if none); a running one's chunks are folded and
 * deleted once its row is locked. One found active after matching nothing was requeued: retried.
 */
export async function cancelTask(backend: Backend, id: string): Promise<CancelOutcome | undefined> {
  for (;;) {
    const outcome = await backend.writeTransaction(async (trx): Promise<CancelOutcome | undefined> => {
      const row = await trx.db
        .updateTable('sq_tasks')
        .set({
          status: 'cancelled',
          finished: backend.now(),
          modified: backend.now(),
          // Only a run in progress ends with this error; it also tells RETURNING what the task was.
          error: sql<string | null>`case when status = 'progress' then ${CANCELLED_BY_USER} else error end`,
        })
        .where('id', '=', id)
        .where('status', 'in', ACTIVE_STATUSES)
        .returning(['claims', 'error'])
        .executeTakeFirst()
      if (!row) {
        const current = await trx.db.selectFrom('sq_tasks').select('status').where('id', '=', id).executeTakeFirst()
        return current && { cancelled: false, status: current.status }
      }
      if (row.error !== CANCELLED_BY_USER) return { cancelled: true, was: 'queued' }
      const { output, log } = await readChunks(trx, id, row.claims)
      if (output || log) {
        const folded = { output: output || null, log: log || null }
        await trx.db.updateTable('sq_tasks').set(folded).where('id', '=', id).execute()
      }
      await trx.db.deleteFrom('sq_task_chunks').where('task_id', '=', id).execute()
      return { cancelled: true, was: 'progress' }
    })
    if (!outcome || outcome.cancelled || isTerminal(outcome.status)) return outcome
  }
}

/** Sends ended tasks back to the queue, results cleared; `attempts` kept: they get one more run. */
export async function requeueTasks(backend: Backend, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return []
  const rows = await backend.db
    .updateTable('sq_tasks')
    .set({
      status: 'queued',
      ...CLEARED_RESULTS,
      ...CLEARED_CLAIM,
      run_at: backend.now(),
      modified: backend.now(),
      max_attempts: sql`case when max_attempts > attempts then max_attempts else attempts + 1 end`,
    })
    .where('id', 'in', ids)
    .where('status', 'in', TERMINAL_STATUSES)
    .returning(['id'])
    .execute()
  return rows.map((r) => r.id)
}

/** Requeues each task and says what happened to each that exists; one that ended meanwhile is tried again. */
export async function requeueEach(backend: Backend, ids: string[]): Promise<Map<string, RequeueOutcome>> {
  const results = new Map<string, RequeueOutcome>()
  let pending = [...new Set(ids)]
  while (pending.length > 0) {
    for (const id of await requeueTasks(backend, pending)) results.set(id, { requeued: true })
    const rest = pending.filter((id) => !results.has(id))
    pending = []
    if (rest.length === 0) break
    const rows = await backend.db.selectFrom('sq_tasks').select(['id', 'status']).where('id', 'in', rest).execute()
    for (const { id, status } of rows) {
      if (status === 'queued' || status === 'progress') results.set(id, { requeued: false, status })
      else pending.push(id)
    }
  }
  return results
}
