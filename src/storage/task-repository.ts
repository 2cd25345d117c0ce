import { type CompiledQuery, sql, type Kysely, type RawBuilder } from 'kysely'
import { isTerminal, TERMINAL_STATUSES, type Status, type Task } from '../types.js'
import type { Backend } from './backend.js'
import type { Database } from './schema.js'
import { inModifiedOrder } from './modified-order.js'
import { toTask } from './task-row.js'
import type { ListFilter } from './task-types.js'

export type { CancelOutcome, ListFilter, RequeueOutcome } from './task-types.js'

/**
 * The queries that add, read, list and delete tasks, and read a run's chunks. Free functions over a
 * backend, no state. A run's own writes are in run-repository.ts; cancel and requeue in
 * control-repository.ts.
 */

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

/**
 * New tasks as one JSON text, an array of [id, task, args, queue, priority, max_attempts, key, run_at,
 * after_seconds] per task (run_at null for a delay, after_seconds 0 for a time): how a bulk insert
 * sends its rows, as ONE parameter (Backend.newTaskRows).
 */
export function newTasksJson(rows: NewTask[]): string {
  return JSON.stringify(
    rows.map((r) => [
      r.id,
      r.task,
      r.argsJson,
      r.queue,
      r.priority,
      r.maxAttempts,
      r.key,
      'at' in r.runAt ? r.runAt.at : null,
      'at' in r.runAt ? 0 : r.runAt.afterSeconds,
    ]),
  )
}

/**
 * Inserts a task. With a key, a queued or running task of the same key wins: the unique partial index
 * refuses the insert and that task's id is returned instead (`created: false`).
 */
export async function insertTask(d: Backend, t: NewTask): Promise<{ id: string; created: boolean }> {
  for (;;) {
    try {
      const { name, query } = boundInsert(d, t)
      await d.runPrepared(name, query)
      return { id: t.id, created: true }
    } catch (error) {
      if (t.key === null || !d.isUniqueViolation(error)) throw error
      const existing = await d.db
        .selectFrom('sq_tasks')
        .select('id')
        .where('key', '=', t.key)
        .where('status', 'in', ['queued', 'progress'])
        .executeTakeFirst()
      // It may have ended between the failed insert and this read; then the insert can succeed.
      if (existing) return { id: existing.id, created: false }
    }
  }
}

/** The INSERT of one task, written once; its values may be placeholders (see boundInsert). */
function insertQuery(d: Backend, t: NewTask) {
  return d.db.insertInto('sq_tasks').values({
    id: t.id,
    task: t.task,
    args: t.argsJson,
    status: 'queued',
    queue: t.queue,
    priority: t.priority,
    max_attempts: t.maxAttempts,
    attempts: 0,
    key: t.key,
    created: d.now(),
    modified: d.now(),
    run_at: 'at' in t.runAt ? t.runAt.at : d.nowPlusSeconds(t.runAt.afterSeconds),
  })
}

/** Each value of the INSERT that varies, as a task gives it. */
const VALUES = {
  id: (t: NewTask) => t.id,
  task: (t: NewTask) => t.task,
  argsJson: (t: NewTask) => t.argsJson,
  queue: (t: NewTask) => t.queue,
  priority: (t: NewTask) => t.priority,
  maxAttempts: (t: NewTask) => t.maxAttempts,
  key: (t: NewTask) => t.key,
  at: (t: NewTask) => ('at' in t.runAt ? t.runAt.at : null),
  afterSeconds: (t: NewTask) => ('at' in t.runAt ? null : t.runAt.afterSeconds),
}
type Shape = 'at' | 'after'

/**
 * Kysely builds and compiles a query anew on every call, and for one INSERT that is most of
 * createTask's own cost. So the INSERT is compiled once per backend and shape (--at or a delay) with a
 * placeholder object for each value, and each task's values are bound in the placeholders' places.
 */
const compiledInserts = new WeakMap<
  Backend,
  Map<Shape, { compiled: CompiledQuery; values: ((t: NewTask) => unknown)[] }>
>()

/** The INSERT of a task, its values bound, and the name of its prepared statement (one per shape). */
function boundInsert(d: Backend, t: NewTask): { name: string; query: CompiledQuery } {
  const shape: Shape = 'at' in t.runAt ? 'at' : 'after'
  let byShape = compiledInserts.get(d)
  if (!byShape) compiledInserts.set(d, (byShape = new Map()))
  let insert = byShape.get(shape)
  if (!insert) {
    const holders = new Map(Object.entries(VALUES).map(([name, value]) => [{ placeholder: name }, value]))
    const of = Object.fromEntries([...holders.keys()].map((h) => [h.placeholder, h])) as unknown as NewTask & {
      at: string
      afterSeconds: number
    }
    const compiled = insertQuery(d, {
      ...of,
      runAt: shape === 'at' ? { at: of.at } : { afterSeconds: of.afterSeconds },
    }).compile()
    // A parameter that is no placeholder is a constant of the statement ('queued', 0).
    const values = compiled.parameters.map((p) => holders.get(p as { placeholder: string }) ?? (() => p))
    byShape.set(shape, (insert = { compiled, values }))
  }
  // No plugin transforms sq's queries, so the compiled node is only carried along, never read again.
  return {
    name: `sq_insert_task_${shape}`,
    query: { ...insert.compiled, parameters: insert.values.map((value) => value(t)) },
  }
}

export async function getTask(d: Backend, id: string): Promise<Task | undefined> {
  const row = await d.db.selectFrom('sq_tasks').selectAll().where('id', '=', id).executeTakeFirst()
  return row && withLiveOutput(d, toTask(d, row))
}

/** A task's status and current attempt: what a follower polls (its output it reads as chunks). */
export async function getTaskState(d: Backend, id: string): Promise<Pick<Task, 'status' | 'attempts'> | undefined> {
  return d.db.selectFrom('sq_tasks').select(['status', 'attempts']).where('id', '=', id).executeTakeFirst()
}

/** Tasks whose id starts with `prefix` (at most `limit`, to tell unique from ambiguous). */
export async function findByIdPrefix(d: Backend, prefix: string, limit = 2): Promise<string[]> {
  const rows = await d.db.selectFrom('sq_tasks').select('id').where('id', 'like', `${prefix}%`).limit(limit).execute()
  return rows.map((r) => r.id)
}

/** While a task runs its output and log live in chunks; a reader sees them as if already folded. */
async function withLiveOutput(d: Backend, task: Task): Promise<Task> {
  if (task.status !== 'progress') return task
  const chunks = await readChunks(d.db, task.id, task.attempts)
  return { ...task, output: chunks.output || null, log: chunks.log || null }
}

/** A run's chunks after `afterSeq`, joined per stream; `db` may be a transaction's. */
export async function readChunks(
  db: Kysely<Database>,
  id: string,
  attempt: number,
  afterSeq = 0,
): Promise<{ output: string; log: string; lastSeq: number }> {
  const rows = await db
    .selectFrom('sq_task_chunks')
    .select(['seq', 'stream', 'data'])
    .where('task_id', '=', id)
    .where('attempt', '=', attempt)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .execute()
  let output = ''
  let log = ''
  for (const row of rows) {
    if (row.stream === 'output') output += row.data
    else log += row.data
  }
  return { output, log, lastSeq: rows.length > 0 ? Number(rows.at(-1)!.seq) : afterSeq }
}

function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}

/**
 * `--task PATTERN` (and `sq top`'s filter): with `*` or `?` a glob over the WHOLE reference, as a shell
 * matches a file name (`tasks/*`, `*#send`, `hel*` — which `tasks/hello` does not match), except that `*`
 * also crosses `/` and `#`; without them a substring. Case-insensitive on both databases (SQLite's LIKE
 * ignores ASCII case and PostgreSQL's does not: both compare lower case). `%` and `_` are literal.
 */
export function taskMatches(column: string, pattern: string): RawBuilder<boolean> {
  return sql<boolean>`lower(${sql.ref(column)}) like ${globToLike(pattern.toLowerCase())} escape '\\'`
}

function globToLike(pattern: string): string {
  const escaped = likeEscape(pattern).replace(/\*/g, '%').replace(/\?/g, '_')
  return /[*?]/.test(pattern) ? escaped : `%${escaped}%`
}

/** Newest first by `modified` (see inModifiedOrder). */
export async function listTasks(d: Backend, f: ListFilter): Promise<Task[]> {
  let q = d.db.selectFrom('sq_tasks').selectAll()
  if (f.taskPattern) q = q.where(taskMatches('task', f.taskPattern))
  if (f.since) q = q.where('modified', '>=', f.since)
  if (f.search) {
    const needle = `%${likeEscape(f.search.toLowerCase())}%`
    q = q.where((eb) =>
      eb.or([
        sql<boolean>`lower(id) like ${needle} escape '\\'`,
        sql<boolean>`lower(task) like ${needle} escape '\\'`,
        sql<boolean>`lower(output) like ${needle} escape '\\'`,
        eb.exists(
          eb
            .selectFrom('sq_task_chunks as c')
            .select(sql.lit(1).as('one'))
            .whereRef('c.task_id', '=', 'sq_tasks.id')
            .where('c.stream', '=', 'output')
            .where(sql<boolean>`lower(c.data) like ${needle} escape '\\'`),
        ),
      ]),
    )
  }
  const rows = await inModifiedOrder(d, f.statuses, q, { direction: 'desc', limit: f.limit })
  return Promise.all(rows.map((row) => withLiveOutput(d, toTask(d, row))))
}

/** Deletes (or with dryRun counts) tasks in the given terminal statuses last modified before `before`. */
export async function purgeTasks(
  d: Backend,
  opts: { statuses: Status[]; before: string; dryRun: boolean },
): Promise<number> {
  const statuses = opts.statuses.filter(isTerminal)
  if (statuses.length === 0) return 0
  if (opts.dryRun) {
    const row = await d.db
      .selectFrom('sq_tasks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', 'in', statuses)
      .where('modified', '<', opts.before)
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }
  const result = await d.db
    .deleteFrom('sq_tasks')
    .where('status', 'in', statuses)
    .where('modified', '<', opts.before)
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}

/** Ids of tasks in the given statuses, newest first (for `requeue --status`). */
export async function idsWithStatus(d: Backend, statuses: Status[], limit = 100_000): Promise<string[]> {
  if (statuses.length === 0) return []
  const q = d.db.selectFrom('sq_tasks').select(['id', 'modified'])
  const rows = await inModifiedOrder(d, statuses, q, { direction: 'desc', limit })
  return rows.map((r) => r.id)
}
