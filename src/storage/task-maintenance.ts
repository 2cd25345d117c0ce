import { type ExpressionBuilder, sql, type RawBuilder } from 'kysely'
import { isTerminal, type Status } from '../types.js'
import type { Backend } from './backend.js'
import type { Database } from './schema.js'
import { inModifiedOrder } from './modified-order.js'
import { globToLike } from './task-repository.js'

/** The task queries that need Kysely, apart from task-repository.ts, which a one-shot command runs. */

/** `--task PATTERN` for a Kysely query (`sq top`'s filter): see globToLike. */
export function taskMatches(column: string, pattern: string): RawBuilder<boolean> {
  return sql<boolean>`lower(${sql.ref(column)}) like ${globToLike(pattern.toLowerCase())} escape '\\'`
}

/** Deletes (or with dryRun counts) tasks in the given terminal statuses last modified before `before`. */
export async function purgeTasks(
  backend: Backend,
  opts: { statuses: Status[]; before: string; dryRun: boolean },
): Promise<number> {
  const statuses = opts.statuses.filter(isTerminal)
  if (statuses.length === 0) return 0
  const ended = (eb: ExpressionBuilder<Database, 'sq_tasks'>) =>
    eb.and([eb('status', 'in', statuses), eb('modified', '<', opts.before)])
  if (opts.dryRun) {
    const row = await backend.db
      .selectFrom('sq_tasks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(ended)
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }
  return Number((await backend.db.deleteFrom('sq_tasks').where(ended).executeTakeFirst()).numDeletedRows)
}

/** Ids of tasks in the given statuses (of one queue if named), newest first (for `requeue --status`; see inModifiedOrder). */
export async function idsWithStatus(
  backend: Backend,
  statuses: Status[],
  o: { queue?: string; limit?: number } = {},
): Promise<string[]> {
  if (statuses.length === 0) return []
  const all = backend.db.selectFrom('sq_tasks').select(['id', 'modified'])
  const q = o.queue === undefined ? all : all.where('queue', '=', o.queue)
  const rows = await inModifiedOrder(backend, statuses, q, { direction: 'desc', limit: o.limit ?? 100_000 })
  return rows.map((r) => r.id)
}
