import { STATUSES, type Status } from '../types.js'
import type { Backend } from './backend.js'

/** The queries of `sq stats` that `sq top` does not need (see monitor-repository.ts for the rest). */

export type PerTaskCounts = { task: string } & Record<Status, number>

/** Tasks per reference and status: one GROUP BY over the table, capped at `limit` references. */
export async function countsByTask(backend: Backend, limit = 200): Promise<PerTaskCounts[]> {
  const rows = await backend.db
    .selectFrom('sq_tasks')
    .select(['task', 'status', (eb) => eb.fn.countAll<number | string>().as('n')])
    .groupBy(['task', 'status'])
    .orderBy('task')
    .execute()
  const byTask = new Map<string, PerTaskCounts>()
  for (const row of rows) {
    let entry = byTask.get(row.task)
    if (!entry) {
      if (byTask.size >= limit) continue
      entry = { task: row.task, ...(Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>) }
      byTask.set(row.task, entry)
    }
    entry[row.status] = Number(row.n)
  }
  return [...byTask.values()]
}

/** Seconds the oldest runnable queued task has waited, or null when none is waiting. */
export async function oldestQueuedAgeSeconds(backend: Backend): Promise<number | null> {
  const row = await backend.db
    .selectFrom('sq_tasks')
    .select(['run_at', backend.now().as('now')])
    .where('status', '=', 'queued')
    .where('run_at', '<=', backend.now())
    .orderBy('run_at')
    .limit(1)
    .executeTakeFirst()
  if (!row) return null
  return Math.max(0, (Date.parse(backend.toIso(row.now as string)) - Date.parse(backend.toIso(row.run_at))) / 1000)
}
