import { type Status, STATUSES, type Task, type TaskRun } from '../types.js'
import { type Connection, runStatement, type SqlRunner, type SqlSpelling } from './backend.js'
import { newTaskInsert, toTask, type TaskRow } from './task-row.js'
import type { ListFilter } from './task-types.js'

export type { ListFilter } from './task-types.js'

/** What `sq enqueue`, `show` and `list` run, written out: a one-shot command loads no query builder. */

/** A Connection, or a Backend. */
export type TaskStore = SqlRunner & Pick<Connection, 'toIso'>

export interface NewTask {
  id: string
  task: string
  argsJson: string
  queue: string
  priority: number
  maxAttempts: number
  key: string | null
  /** Seconds from now before the task may run (--delay), or an absolute ISO time (--at). */
  runAt: { afterSeconds: number } | { at: string }
}

/** How many of some new tasks each queue gets: what their insert announces (Backend.announceQueued). */
export function queueCounts(tasks: readonly Pick<NewTask, 'queue'>[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const { queue } of tasks) counts.set(queue, (counts.get(queue) ?? 0) + 1)
  return counts
}

/**
 * New tasks as ONE parameter of a bulk insert (bulk-insert.ts): [id, task, args, queue, priority,
 * max_attempts, key, run_at, after_seconds] per task (run_at null for a delay, after_seconds 0 for a time).
 */
export function newTasksJson(rows: NewTask[]): string {
  const runAt = ({ runAt: r }: NewTask) => ('at' in r ? [r.at, 0] : [null, r.afterSeconds])
  return JSON.stringify(
    rows.map((r) => [r.id, r.task, r.argsJson, r.queue, r.priority, r.maxAttempts, r.key, ...runAt(r)]),
  )
}

/**
 * Inserts a task. With a key, a queued or running task of the same key wins: the insert does nothing
 * (an error would abort an app's transaction on PostgreSQL), and that task's id is returned.
 */
export async function insertTask(backend: SqlRunner, t: NewTask): Promise<{ id: string; created: boolean }> {
  const keyed = t.key !== null
  const at = 'at' in t.runAt
  const name = `insert_task_${at ? 'at' : 'after'}${keyed ? '_keyed' : ''}`
  const runAt = 'at' in t.runAt ? t.runAt.at : t.runAt.afterSeconds
  for (;;) {
    const values = [t.id, t.task, t.argsJson, t.queue, t.priority, t.maxAttempts, t.key, runAt]
    await runStatement(backend, name, () => insertSql(backend.spelling, at, keyed), values)
    if (!keyed) return { id: t.id, created: true }
    const [holder] = await backend.query<{ id: string }>(
      `select "id" from "sq_tasks" where "key" = ${backend.spelling.param(1)} and "status" in ('queued', 'progress')`,
      [t.key],
      'task_of_key',
    )
    if (holder) return { id: holder.id, created: holder.id === t.id }
    // The holder ended between the insert and this read; then the insert can succeed.
  }
}

/**
 * The INSERT of one task, kept prepared (planning is ~1/4 of the server's work for one row). With a key
 * it does nothing where the key is held: the only unique index a new row can meet.
 */
function insertSql(spelling: SqlSpelling, at: boolean, keyed: boolean): string {
  const p = (i: number) => spelling.param(i + 1)
  const { columns, values } = newTaskInsert(spelling.now, p, at ? p(7) : spelling.nowPlusSeconds(p(7)))
  const insert = `insert into "sq_tasks" ${columns} values (${values})`
  return spelling.announcingQueue(keyed ? `${insert} on conflict do nothing` : insert)
}

export async function getTask(backend: TaskStore, id: string): Promise<Task | undefined> {
  const [row] = await backend.query<TaskRow>(`select * from "sq_tasks" where "id" = ${backend.spelling.param(1)}`, [id])
  return row && withLiveOutput(backend, row)
}

/** A task's runs, oldest first: those of sq_task_runs (migration 009), then the row's own (none while queued). */
export async function taskRuns(backend: TaskStore, task: Task): Promise<TaskRun[]> {
  const rows = await backend.query<RunRow>(
    `select "attempt", "worker", "started", "finished", "outcome", "error" from "sq_task_runs" where "task_id" = ${backend.spelling.param(1)} order by "seq"`,
    [task.id],
  )
  const earlier = rows.map((r) => ({ ...r, started: backend.toIso(r.started), finished: backend.toIso(r.finished) }))
  const { attempts: attempt, worker, started, finished, error, status } = task
  if (status === 'queued' || started === null) return earlier
  // As migration 009's trigger names a run it keeps: lost if its error says so, else its status.
  const outcome = status === 'progress' ? null : error?.match(/^Worker .* stopped heartbeating/) ? 'lost' : status
  return [...earlier, { attempt, worker, started, finished, outcome, error }]
}

type RunRow = Omit<TaskRun, 'started' | 'finished'> & { started: Date | string | null; finished: Date | string }

const LOWEST_ID = '00000000-0000-0000-0000-000000000000'
const HIGHEST_ID = 'ffffffff-ffff-ffff-ffff-ffffffffffff'
const CANONICAL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * Tasks whose id starts with `prefix`, lower case (at most `limit`: unique or ambiguous): the primary key
 * range from the prefix filled out with 0s to it filled out with fs (PostgreSQL's uuid has no LIKE).
 */
export async function findByIdPrefix(backend: SqlRunner, prefix: string, limit = 2): Promise<string[]> {
  const lowest = prefix + LOWEST_ID.slice(prefix.length)
  const highest = prefix + HIGHEST_ID.slice(prefix.length)
  if (!CANONICAL_ID.test(lowest) || !CANONICAL_ID.test(highest)) return []
  const p = backend.spelling.param
  const rows = await backend.query<{ id: string }>(
    `select "id" from "sq_tasks" where "id" between ${p(1)} and ${p(2)} limit ${p(3)}`,
    [lowest, highest, limit],
  )
  return rows.map((r) => r.id)
}

/** While a task runs its output and log live in chunks; a reader sees them as if already folded. */
async function withLiveOutput(backend: TaskStore, row: TaskRow): Promise<Task> {
  const task = toTask(backend, row)
  if (task.status !== 'progress') return task
  const chunks = await readChunks(backend, task.id, row.claims)
  return { ...task, output: chunks.output || null, log: chunks.log || null }
}

/** A run's chunks, joined per stream. */
export async function readChunks(backend: SqlRunner, id: string, claim: number) {
  const p = (n: number) => backend.spelling.param(n)
  const rows = await backend.query<{ stream: string; data: string }>(
    `select "stream", "data" from "sq_task_chunks" where "task_id" = ${p(1)} and "claim" = ${p(2)} order by "seq"`,
    [id, claim],
  )
  const joined = (stream: string) => rows.flatMap((r) => (r.stream === stream ? [r.data] : [])).join('')
  return { output: joined('output'), log: joined('log') }
}

/**
 * `--task PATTERN` as a LIKE pattern of lower case (compared with lower(column): PostgreSQL's LIKE heeds
 * case): with `*` or `?` a glob over the WHOLE reference, `*` crossing `/` and `#`; else a substring.
 */
export function globToLike(pattern: string): string {
  const escaped = likeEscape(pattern).replace(/\*/g, '%').replace(/\?/g, '_')
  return /[*?]/.test(pattern) ? escaped : `%${escaped}%`
}

/**
 * What a search matches (list, dashboard, library): a case-insensitive substring (`%`, `_` literal) of the id, task,
 * key, args, error, output or running output chunks; cast to text: PostgreSQL's uuid and jsonb have no lower().
 */
export function searchSql(text: string, param: (value: string) => string): string {
  const needle = `%${likeEscape(text.toLowerCase())}%`
  // A parameter per use: SQLite's `?` are positional.
  const like = (expression: string) => `${expression} like ${param(needle)} escape '\\'`
  const columns = ['task', 'key', 'args', 'error', 'output'].map((c) => `lower(cast("sq_tasks"."${c}" as text))`)
  const matches = [`cast("sq_tasks"."id" as text)`, ...columns].map(like)
  const chunk = `select 1 from "sq_task_chunks" as "c" where "c"."task_id" = "sq_tasks"."id" and "c"."stream" = 'output'`
  return `(${matches.join(' or ')} or exists (${chunk} and ${like('lower("c"."data")')}))`
}

/** LIKE's own characters made literal, with `\` as the escape. */
export function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}

/** Tasks of the filter, newest first (newestFirst), each with its live output. */
export async function listTasks(backend: TaskStore, f: ListFilter): Promise<Task[]> {
  const rows = await newestFirst<TaskRow>(backend, {
    select: '*',
    statuses: f.statuses,
    where: (p) => [
      f.taskPattern && `lower("task") like ${p(globToLike(f.taskPattern.toLowerCase()))} escape '\\'`,
      f.since && `"modified" >= ${p(f.since)}`,
      f.search && searchSql(f.search, p),
    ],
    limit: f.limit,
  })
  return Promise.all(rows.map((row) => withLiveOutput(backend, row)))
}

/**
 * Rows of tasks of some statuses (all when none), newest first by `modified`, then `id`: `limit` after
 * `offset`. `select` names `modified` and `id`; `where` gives the other filters, its values added by `p`.
 * No index orders the table by `modified`, so each status is one walk of sq_tasks_status_modified, merged.
 */
export function newestFirst<R>(
  store: SqlRunner,
  o: {
    select: string
    statuses?: readonly Status[]
    where: (p: (value: unknown) => string) => Array<string | false | null | undefined>
    limit: number
    offset?: number
  },
): Promise<R[]> {
  const values: unknown[] = []
  // Each use of a value is a parameter of its own: SQLite's `?` are numbered by position.
  const p = (value: unknown) => {
    values.push(value)
    return store.spelling.param(values.length)
  }
  const offset = o.offset ?? 0
  const order = `order by "modified" desc, "id" desc`
  const walk = (status: Status, limit: number) =>
    `select ${o.select} from "sq_tasks" where ${[`"status" = ${p(status)}`, ...o.where(p).filter(Boolean)].join(' and ')} ${order} limit ${p(limit)}`
  const statuses = [...new Set(o.statuses && o.statuses.length > 0 ? o.statuses : STATUSES)]
  if (statuses.length === 1) return store.query<R>(`${walk(statuses[0]!, o.limit)} offset ${p(offset)}`, values)
  // Each walk a subquery of its own: SQLite allows no ORDER BY or LIMIT on a member of a UNION.
  const walks = statuses.map((status, i) => `select * from (${walk(status, offset + o.limit)}) as "w${i}"`)
  const merged = `select * from (${walks.join(' union all ')}) as "m" ${order}`
  return store.query<R>(`${merged} limit ${p(o.limit)} offset ${p(offset)}`, values)
}
