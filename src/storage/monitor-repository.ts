import { sql, type RawBuilder } from 'kysely'
import { FINISHED_STATUSES, type Status, zeroCounts } from '../task.js'
import type { Backend } from './backend.js'
import { taskMatches } from './task-maintenance.js'

/**
 * The read-only queries of `sq top`. Each one is bounded (a LIMIT, a time window, or a primary-key
 * lookup) and served by an index of migrations/001-initial.ts, so a refresh costs the same with 100
 * rows as with 100,000 — with one stated exception, the counts per status (see countsByStatus).
 */

/** The last `n` characters of a text column, computed in the database so a 10 MiB output is not shipped. */
function tail(column: string, n: number): RawBuilder<string | null> {
  const ref = sql.ref(column)
  // Written with CASE rather than substr(x, -n): SQLite counts a negative start from the end,
  // PostgreSQL from before the first character, so only non-negative starts mean the same in both.
  return sql<
    string | null
  >`case when length(${ref}) > ${sql.lit(n)} then substr(${ref}, length(${ref}) - ${sql.lit(n - 1)}) else ${ref} end`
}

function head(column: string, n: number): RawBuilder<string | null> {
  return sql<string | null>`substr(${sql.ref(column)}, 1, ${sql.lit(n)})`
}

/** The database's clock, so elapsed times are right whatever the clock of the host running `sq top`. */
export async function databaseNow(backend: Backend): Promise<string> {
  const row = await backend.db.selectNoFrom(backend.now().as('now')).executeTakeFirstOrThrow()
  return backend.toIso(row.now as Date | string)
}

/**
 * Tasks per status. GROUP BY over sq_tasks_status_modified, which covers `status`: an index-only scan.
 * Over all statuses it is the one query whose cost grows with the table (every row is counted once);
 * with `only` (the active statuses, queued and progress) it reads just those ranges of the index, as
 * large as the backlog. Exact counts without the scan would need a counter row that every enqueue and
 * claim updates, a hot spot for concurrent workers; activity.ts re-counts the ended statuses only every
 * few seconds instead.
 */
export async function countsByStatus(backend: Backend, only?: readonly Status[]): Promise<Record<Status, number>> {
  let q = backend.db.selectFrom('sq_tasks').select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
  if (only) q = q.where('status', 'in', only)
  const rows = await q.groupBy('status').execute()
  const counts = zeroCounts()
  for (const row of rows) counts[row.status] = Number(row.n)
  return counts
}

/** Completions and failures in the last `seconds`: a range of sq_tasks_status_modified per status. */
export async function recentlyEnded(backend: Backend, seconds: number): Promise<{ completed: number; failed: number }> {
  const rows = await backend.db
    .selectFrom('sq_tasks')
    .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('status', 'in', FINISHED_STATUSES)
    .where('modified', '>=', backend.nowPlusSeconds(-seconds))
    .groupBy('status')
    .execute()
  const n = (status: Status) => Number(rows.find((r) => r.status === status)?.n ?? 0)
  return { completed: n('completed'), failed: n('failed') }
}

export interface RunningRow {
  id: string
  task: string
  worker: string | null
  started: string | null
  attempts: number
  /** The run's claim: a new one is a new run (its output starts over). */
  claims: number
  progress: string | null
  /** The end of the run's latest non-blank output chunk (at most 512 characters). */
  last_output: string | null
}

/**
 * Tasks running (in progress and started), oldest start first. `status = 'progress'` is a range of sq_tasks_status_modified
 * (or the partial sq_tasks_running), as small as the number of runs in flight; each row's latest
 * output chunk is one backward step of sq_task_chunks_task (task_id, stream, seq).
 */
export async function runningTasks(
  backend: Backend,
  o: { taskPattern?: string | null; limit: number },
): Promise<RunningRow[]> {
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
  return rows.map((r) => ({ ...r, started: r.started === null ? null : backend.toIso(r.started) }))
}

/** The statuses `sq top`'s lower list can show, and the column whose start it shows for each. */
export type ListedStatus = 'failed' | 'queued' | 'completed'
const HEAD_OF: Record<ListedStatus, 'error' | 'output' | null> = { failed: 'error', completed: 'output', queued: null }

export interface ListedRow {
  id: string
  task: string
  modified: string
  /** When it may run (a delayed task's is in the future). */
  run_at: string
  /** The start (400 characters) of the error of a failed task, the output of a completed one; null when queued. */
  head: string | null
}

/**
 * Tasks of one status for `sq top`: a walk of sq_tasks_status_modified — newest first for ended tasks,
 * oldest first for queued ones (those waiting longest). With a task filter, only the first `scanLimit`
 * rows of that walk are searched, so a filter matching nothing still reads a bounded number of rows.
 */
export async function latestWithStatus(
  backend: Backend,
  o: { status: ListedStatus; taskPattern?: string | null; limit: number; scanLimit?: number },
): Promise<ListedRow[]> {
  const direction = o.status === 'queued' ? 'asc' : 'desc'
  const column = HEAD_OF[o.status]
  const walk = (limit: number) =>
    backend.db
      .selectFrom('sq_tasks')
      .select([
        'id',
        'task',
        'modified',
        'run_at',
        (column === null ? sql<string | null>`null` : head(column, 400)).as('head'),
      ])
      .where('status', '=', o.status)
      .orderBy('modified', direction)
      .orderBy('id', direction)
      .limit(limit)
  const rows = o.taskPattern
    ? await backend.db
        .selectFrom(walk(o.scanLimit ?? 1000).as('f'))
        .selectAll()
        .where(taskMatches('f.task', o.taskPattern))
        .orderBy('f.modified', direction)
        .orderBy('f.id', direction)
        .limit(o.limit)
        .execute()
    : await walk(o.limit).execute()
  return rows.map((r) => ({ ...r, modified: backend.toIso(r.modified), run_at: backend.toIso(r.run_at) }))
}
