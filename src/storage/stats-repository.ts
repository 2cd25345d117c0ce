import { type Status, zeroCounts } from '../task.js'
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
      entry = { task: row.task, ...zeroCounts() }
      byTask.set(row.task, entry)
    }
    entry[row.status] = Number(row.n)
  }
  return [...byTask.values()]
}
