import { type Expression, sql, type RawBuilder } from 'kysely'
import { FINISHED_STATUSES, type Status, zeroCounts } from '../task.js'
import type { Backend } from './backend.js'
import { taskMatches } from './task-maintenance.js'

/** The reads of `sq top`, `sq stats` and the overview, each bounded by an index (but countsBy): cost stays flat. */

/** The last `n` characters of a text column, computed in the database so a 10 MiB output is not shipped. */
function tail(column: string, n: number): RawBuilder<string | null> {
  const ref = sql.ref(column)
  // Written with CASE rather than substr(x, -n): SQLite counts a negative start from the end,
  // PostgreSQL from before the first character, so only non-negative starts mean the same in both.
  return sql<
    string | null
  >`case when length(${ref}) > ${sql.lit(n)} then substr(${ref}, length(${ref}) - ${sql.lit(n - 1)}) else ${ref} end`
}

export const countWhen = (condition: RawBuilder<boolean>) =>
  sql<number | string>`sum(case when ${condition} then 1 else 0 end)`

/** The database's clock, so elapsed times are right whatever the clock of the host running `sq top`. */
export async function databaseNow(backend: Backend): Promise<string> {
  const row = await backend.db.selectNoFrom(backend.now().as('now')).executeTakeFirstOrThrow()
  return backend.toIso(row.now as Date | string)
}

/**
 * Tasks per status, in all (`by` null: one group '') or per queue or task: in all an index-only scan, else every row
 * (~0.1 s at 100,000); `only` reads those statuses, the others 0. No counter row: a hot spot for workers.
 */
export async function countsBy(
  backend: Backend,
  by: 'queue' | 'task' | null,
  only?: readonly Status[],
): Promise<Map<string, Record<Status, number>>> {
  let q = backend.db
    .selectFrom('sq_tasks')
    .select([
      (by ? sql.ref<string>(by) : sql.lit('')).as('grp'),
      'status',
      (eb) => eb.fn.countAll<number | string>().as('n'),
    ])
  if (only) q = q.where('status', 'in', only)
  if (by) q = q.orderBy(by)
  const rows = await q.groupBy(by ? [by, 'status'] : ['status']).execute()
  const groups = new Map<string, Record<Status, number>>()
  for (const row of rows) {
    const counts = groups.get(row.grp) ?? groups.set(row.grp, zeroCounts()).get(row.grp)!
    counts[row.status] = Number(row.n)
  }
  return groups
}

/** Completions and failures since each of `starts` (oldest first), in one walk of sq_tasks_status_modified's range. */
export async function endedSince(
  backend: Backend,
  starts: Array<string | Expression<string>>,
): Promise<Array<{ completed: number; failed: number }>> {
  const rows = await backend.db
    .selectFrom('sq_tasks')
    .select('status')
    .select(starts.map((start, i) => countWhen(sql`modified >= ${start}`).as(`c${i}`)))
    .where('status', 'in', FINISHED_STATUSES)
    .where('modified', '>=', starts[0]!)
    .groupBy('status')
    .execute()
  const n = (status: Status, i: number) =>
    Number((rows.find((r) => r.status === status) as Record<string, unknown> | undefined)?.[`c${i}`] ?? 0)
  return starts.map((_, i) => ({ completed: n('completed', i), failed: n('failed', i) }))
}

/** Tasks running, oldest start first, each with the end (512 characters) of its run's latest non-blank output chunk. */
export async function runningTasks(backend: Backend, o: { taskPattern?: string | null; limit: number }) {
  let q = backend.db
    .selectFrom('sq_tasks as t')
    .select(['t.id', 't.task', 't.worker', 't.started', 't.attempts', 't.claims', 't.progress'])
    .select((eb) =>
      eb
        .selectFrom('sq_task_chunks as c')
        .select(tail('c.data', 512).as('data'))
        .whereRef('c.task_id', '=', 't.id')
        .whereRef('c.claim', '=', 't.claims')
        .where('c.stream', '=', 'output')
        .where(sql<boolean>`trim(c.data) <> ''`)
        .orderBy('c.seq', 'desc')
        .limit(1)
        .as('last_output'),
    )
    .where('t.status', '=', 'progress')
    // Claimed ahead but not started yet: waiting in a worker's local queue, not running.
    .where('t.started', 'is not', null)
  if (o.taskPattern) q = q.where(taskMatches('t.task', o.taskPattern))
  const rows = await q.orderBy('t.started').orderBy('t.id').limit(o.limit).execute()
  return rows.map((r) => ({ ...r, started: backend.toIso(r.started) }))
}

/** The statuses `sq top`'s lower list shows, in the order Tab cycles them, and the column whose start it shows. */
const HEAD_OF = { failed: 'error', queued: null, completed: 'output' } as const
export type ListedStatus = keyof typeof HEAD_OF
export const LISTED_STATUSES = Object.keys(HEAD_OF) as ListedStatus[]

/**
 * Tasks of one status for `sq top`, with the start (400 characters) of a failure's error or a completion's output,
 * newest first (queued: oldest). A task filter searches only the walk's first 1,000 rows: a bounded read.
 */
export async function latestWithStatus(
  backend: Backend,
  o: { status: ListedStatus; taskPattern?: string | null; limit: number },
) {
  const direction = o.status === 'queued' ? 'asc' : 'desc'
  const column = HEAD_OF[o.status]
  const head = column === null ? sql<string | null>`null` : sql<string | null>`substr(${sql.ref(column)}, 1, 400)`
  const walk = (limit: number) =>
    backend.db
      .selectFrom('sq_tasks')
      .select(['id', 'task', 'modified', 'run_at', head.as('head')])
      .where('status', '=', o.status)
      .orderBy('modified', direction)
      .orderBy('id', direction)
      .limit(limit)
  const rows = o.taskPattern
    ? await backend.db
        .selectFrom(walk(1000).as('f'))
        .selectAll()
        .where(taskMatches('f.task', o.taskPattern))
        .orderBy('f.modified', direction)
        .orderBy('f.id', direction)
        .limit(o.limit)
        .execute()
    : await walk(o.limit).execute()
  return rows.map((r) => ({ ...r, modified: backend.toIso(r.modified), run_at: backend.toIso(r.run_at) }))
}
