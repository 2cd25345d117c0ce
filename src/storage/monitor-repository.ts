import { type Expression, sql, type RawBuilder } from 'kysely'
import { FINISHED_STATUSES, type Status, STATUSES, zeroCounts } from '../task.js'
import type { Backend } from './backend.js'
import { taskMatches } from './task-maintenance.js'

/** The reads of `sq top`, `sq stats` and the overview, each bounded by an index or a sample: cost stays flat. */

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

/** Tasks of a status counted one by one, at most; a status with more is estimated from a sample (taskSample). */
export const EXACT_COUNT_LIMIT = 10_000

/** Tasks per status and group; `estimated`: the statuses whose figures are estimates (over EXACT_COUNT_LIMIT). */
export interface Counted {
  groups: Map<string, Record<Status, number>>
  estimated: Status[]
}

/**
 * Tasks per status, in all (`by` null: one group '') or per queue or task; `only` reads those statuses, the
 * others 0. Each status's index range is counted up to EXACT_COUNT_LIMIT + 1 rows; statuses with fewer are
 * exact, the others estimated from a sample of the table, so a read costs the same at any size. No running
 * totals: a counter row would be a hot spot for workers, and triggers a cost on every write.
 */
export async function countsBy(
  backend: Backend,
  by: 'queue' | 'task' | null,
  only: readonly Status[] = STATUSES,
): Promise<Counted> {
  const { param, taskSample } = backend.spelling
  const values: unknown[] = []
  const p = (value: unknown) => values.push(value) && param(values.length)
  const capped = only.map(
    (s) =>
      `select ${sqlText(s)} as "status", count(*) as "n" from (select 1 from "sq_tasks" where "status" = ${sqlText(s)} limit ${p(EXACT_COUNT_LIMIT + 1)}) as "capped"`,
  )
  const totals = await backend.query<{ status: Status; n: number | string }>(capped.join(' union all '), values)
  const estimated = totals.filter((t) => Number(t.n) > EXACT_COUNT_LIMIT).map((t) => t.status)
  const exact = only.filter((s) => !estimated.includes(s))
  const group = by ? `"${by}"` : `''`
  const read = async (from: string, statuses: readonly Status[], n: string) =>
    statuses.length === 0
      ? []
      : backend.query<{ grp: string; status: Status; n: number | string }>(
          `select ${group} as "grp", "status", ${n} as "n" from ${from}
          where "status" in (${statuses.map(sqlText).join(', ')}) group by ${group === `''` ? '' : `${group}, `}"status"`,
          [],
        )
  const [counted, sampled] = await Promise.all([
    by
      ? read('"sq_tasks"', exact, 'count(*)')
      : totals.filter((t) => exact.includes(t.status)).map((t) => ({ ...t, grp: '' })),
    read(taskSample.from, estimated, `count(*) * ${taskSample.scale}`),
  ])
  const groups = new Map<string, Record<Status, number>>()
  for (const row of [...counted, ...sampled]) {
    const counts = groups.get(row.grp) ?? groups.set(row.grp, zeroCounts()).get(row.grp)!
    counts[row.status] = Math.round(Number(row.n))
  }
  return { groups: new Map([...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), estimated }
}

/** A status as an SQL literal: a literal lets a plan use the partial index of queued tasks. */
const sqlText = (status: Status) => `'${status}'`

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
