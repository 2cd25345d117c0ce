import { sql, type Selectable, type Kysely } from 'kysely'
import type { Progress, Status, Task } from '../types.js'
import type { Dialect } from './dialect.js'
import type { Database, TasksTable } from './schema.js'
import type { CancelOutcome, ListFilter, RequeueOutcome } from './task-types.js'

export type { CancelOutcome, ListFilter, RequeueOutcome } from './task-types.js'

/** Every query on sq_tasks and sq_task_chunks. Free functions over a dialect, no state. */

export type TaskRow = Selectable<TasksTable>

export function toTask(d: Dialect, row: TaskRow): Task {
  return {
    id: row.id,
    task: row.task,
    args: JSON.parse(row.args),
    status: row.status,
    output: row.output,
    error: row.error,
    log: row.log,
    worker_pid: row.worker_pid,
    worker: row.worker,
    created: d.toIso(row.created),
    modified: d.toIso(row.modified),
    started: d.toIso(row.started),
    finished: d.toIso(row.finished),
    attempts: row.attempts,
    max_attempts: row.max_attempts,
    run_at: d.toIso(row.run_at),
    priority: row.priority,
    queue: row.queue,
    key: row.key,
    progress: row.progress === null ? null : (JSON.parse(row.progress) as Progress),
    cpu_ms: row.cpu_ms,
    peak_rss_bytes: row.peak_rss_bytes === null ? null : Number(row.peak_rss_bytes),
    duration_ms: row.duration_ms,
  }
}

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
 * Inserts a task. With a key, a queued or running task of the same key wins: the unique partial index
 * refuses the insert and that task's id is returned instead (`created: false`).
 */
export async function insertTask(d: Dialect, t: NewTask): Promise<{ id: string; created: boolean }> {
  for (;;) {
    try {
      await d.db
        .insertInto('sq_tasks')
        .values({
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
        .execute()
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

export async function getTask(d: Dialect, id: string): Promise<Task | undefined> {
  const row = await d.db.selectFrom('sq_tasks').selectAll().where('id', '=', id).executeTakeFirst()
  return row && withLiveOutput(d, toTask(d, row))
}

/** A task's status and current attempt: what a follower polls (its output it reads as chunks). */
export async function getTaskState(d: Dialect, id: string): Promise<Pick<Task, 'status' | 'attempts'> | undefined> {
  return d.db.selectFrom('sq_tasks').select(['status', 'attempts']).where('id', '=', id).executeTakeFirst()
}

/** Tasks whose id starts with `prefix` (at most `limit`, to tell unique from ambiguous). */
export async function findByIdPrefix(d: Dialect, prefix: string, limit = 2): Promise<string[]> {
  const rows = await d.db
    .selectFrom('sq_tasks')
    .select('id')
    .where('id', 'like', `${prefix}%`)
    .limit(limit)
    .execute()
  return rows.map((r) => r.id)
}

/** While a task runs its output and log live in chunks; a reader sees them as if already folded. */
async function withLiveOutput(d: Dialect, task: Task): Promise<Task> {
  if (task.status !== 'progress') return task
  const chunks = await readChunks(d, task.id, task.attempts)
  return { ...task, output: chunks.output || null, log: chunks.log || null }
}

export async function readChunks(
  d: Dialect | { db: Kysely<Database> },
  id: string,
  attempt: number,
  afterSeq = 0,
): Promise<{ output: string; log: string; lastSeq: number }> {
  const rows = await d.db
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

export function globToLike(pattern: string): string {
  const escaped = likeEscape(pattern).replace(/\*/g, '%').replace(/\?/g, '_')
  return /[*?]/.test(pattern) ? escaped : `%${escaped}%`
}

/** Newest first by `modified`. */
export async function listTasks(d: Dialect, f: ListFilter): Promise<Task[]> {
  let q = d.db.selectFrom('sq_tasks').selectAll()
  if (f.statuses && f.statuses.length > 0) q = q.where('status', 'in', f.statuses)
  if (f.taskPattern) q = q.where(sql<boolean>`task like ${globToLike(f.taskPattern)} escape '\\'`)
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
  const rows = await q.orderBy('modified', 'desc').orderBy('id', 'desc').limit(f.limit).execute()
  return Promise.all(rows.map((row) => withLiveOutput(d, toTask(d, row))))
}

/** Deletes (or with dryRun counts) tasks in the given terminal statuses last modified before `before`. */
export async function purgeTasks(
  d: Dialect,
  opts: { statuses: Status[]; before: string; dryRun: boolean },
): Promise<number> {
  const statuses = opts.statuses.filter((s) => s !== 'queued' && s !== 'progress')
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

/** What a cancel did: cancelled the task (it was queued or running), or found it already ended. */

/** The error of a run ended by a cancel. A queued task never has it: a cancelled run is not retried. */
export const CANCELLED_BY_USER = 'Cancelled by user'

/**
 * Cancels a task that is queued or running (or only in the statuses of `from`); undefined when there
 * is no such task. The decision is ONE conditional UPDATE, so nothing can slip between a check and the
 * write (a reader that saw "running", then a write that found it ended and requeued, said "not
 * cancelled: already queued" of a task it could have cancelled).
 *
 * A running task's run ends here, keeping what it streamed: in the same transaction, as endRun does,
 * its chunks are folded into output and log and deleted. The row is updated (on PostgreSQL, locked)
 * first, so every chunk committed before is read, and none can come after: appendChunks writes only
 * while the task is still in progress.
 *
 * When nothing matched, the status is read. Still cancellable means the task changed between the two
 * statements (its run ended and it was requeued): the UPDATE is tried again. So "not cancelled" is only
 * ever said of a task seen ended.
 */
export async function cancelTask(
  d: Dialect,
  id: string,
  from: ReadonlyArray<'queued' | 'progress'> = ['queued', 'progress'],
): Promise<CancelOutcome | undefined> {
  for (;;) {
    const outcome = await d.writeTransaction(async (trx): Promise<CancelOutcome | undefined> => {
      const row = await trx
        .updateTable('sq_tasks')
        .set({
          status: 'cancelled',
          finished: d.now(),
          modified: d.now(),
          // Only a run in progress ends with this error; it also tells RETURNING what the task was.
          error: sql<string | null>`case when status = 'progress' then ${CANCELLED_BY_USER} else error end`,
        })
        .where('id', '=', id)
        .where('status', 'in', [...from])
        .returning(['attempts', 'error'])
        .executeTakeFirst()
      if (!row) {
        const current = await trx.selectFrom('sq_tasks').select('status').where('id', '=', id).executeTakeFirst()
        return current && { cancelled: false, status: current.status }
      }
      if (row.error !== CANCELLED_BY_USER) return { cancelled: true, was: 'queued' }
      const { output, log } = await readChunks({ db: trx }, id, row.attempts)
      if (output || log) {
        const folded = { output: output || null, log: log || null }
        await trx.updateTable('sq_tasks').set(folded).where('id', '=', id).execute()
      }
      await trx.deleteFrom('sq_task_chunks').where('task_id', '=', id).execute()
      return { cancelled: true, was: 'progress' }
    })
    if (!outcome || outcome.cancelled || !(from as readonly Status[]).includes(outcome.status)) return outcome
  }
}

/**
 * Sends ended tasks back to the queue with their results cleared. `attempts` is kept: it is the fencing
 * token and must never repeat; the task gets one more run (retries do not start over).
 */
export async function requeueTasks(d: Dialect, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return []
  const rows = await d.db
    .updateTable('sq_tasks')
    .set({
      status: 'queued',
      output: null,
      error: null,
      log: null,
      worker: null,
      worker_pid: null,
      worker_id: null,
      started: null,
      finished: null,
      progress: null,
      cpu_ms: null,
      peak_rss_bytes: null,
      duration_ms: null,
      run_at: d.now(),
      modified: d.now(),
      max_attempts: sql`case when max_attempts > attempts then max_attempts else attempts + 1 end`,
    })
    .where('id', 'in', ids)
    .where('status', 'in', ['completed', 'failed', 'cancelled'])
    .returning(['id'])
    .execute()
  return rows.map((r) => r.id)
}

/** What a requeue did: requeued the task (it had ended), or found it queued or running. */

/**
 * Requeues each task (one conditional UPDATE, requeueTasks) and says of each what happened; a task
 * that does not exist is left out. Of those not requeued the status is read; one that has ended since
 * (it was running when the UPDATE looked) is tried again, so "not requeued" is only said of a task seen
 * queued or running.
 */
export async function requeueEach(d: Dialect, ids: string[]): Promise<Map<string, RequeueOutcome>> {
  const results = new Map<string, RequeueOutcome>()
  let pending = [...new Set(ids)]
  while (pending.length > 0) {
    for (const id of await requeueTasks(d, pending)) results.set(id, { requeued: true })
    const rest = pending.filter((id) => !results.has(id))
    pending = []
    if (rest.length === 0) break
    const rows = await d.db.selectFrom('sq_tasks').select(['id', 'status']).where('id', 'in', rest).execute()
    for (const { id, status } of rows) {
      if (status === 'queued' || status === 'progress') results.set(id, { requeued: false, status })
      else pending.push(id)
    }
  }
  return results
}

/** Ids of tasks in the given statuses, newest first (for `requeue --status`). */
export async function idsWithStatus(d: Dialect, statuses: Status[], limit = 100_000): Promise<string[]> {
  const rows = await d.db
    .selectFrom('sq_tasks')
    .select('id')
    .where('status', 'in', statuses)
    .orderBy('modified', 'desc')
    .limit(limit)
    .execute()
  return rows.map((r) => r.id)
}
