import type { Backend } from './backend.js'
import type { PausedQueuesTable } from './schema.js'

/** A paused queue, `paused_at` as ISO text. */
export type PausedQueue = Record<keyof PausedQueuesTable, string>

/** Pauses a queue; pausing a paused queue keeps its first `paused_at`. */
export async function pauseQueue(backend: Backend, queue: string): Promise<PausedQueue> {
  await backend.db
    .insertInto('sq_paused_queues')
    .values({ queue, paused_at: backend.now() })
    .onConflict((oc) => oc.column('queue').doNothing())
    .execute()
  const row = await backend.db.selectFrom('sq_paused_queues').selectAll().where('queue', '=', queue).executeTakeFirst()
  return { queue, paused_at: backend.toIso(row!.paused_at) }
}

/** Resumes a queue; true when it was paused. Idle workers wake at once: migration 003's trigger, or the commit. */
export async function resumeQueue(backend: Backend, queue: string): Promise<boolean> {
  const result = await backend.db.deleteFrom('sq_paused_queues').where('queue', '=', queue).executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}

/** Every paused queue, by name. */
export async function pausedQueues(backend: Backend): Promise<PausedQueue[]> {
  const rows = await backend.db.selectFrom('sq_paused_queues').selectAll().orderBy('queue').execute()
  return rows.map((row) => ({ queue: row.queue, paused_at: backend.toIso(row.paused_at) }))
}
