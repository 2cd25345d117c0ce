import { sql, type QueryCreator } from 'kysely'
import type { Progress, Status } from '../types.js'
import type { Dialect } from './dialect.js'
import type { Database } from './schema.js'
import { storableText } from './text.js'
import { cancelTask, readChunks, toTask, type TaskRow } from './task-repository.js'
import type { Task } from '../types.js'

/**
 * The queries of one run of a task: claim, stream output, end. Every write after the claim names the
 * run by (task id, attempt) — its fencing token — and changes nothing once the task has left that run
 * (cancelled, requeued, declared lost), so a worker that lost its claim can never overwrite the verdict.
 */

export interface RunRef {
  id: string
  attempt: number
}

export interface ClaimOptions {
  workerId: string
  workerName: string
  pid: number
  queues: string[]
  limit: number
  /**
   * The claimed tasks start at once (they fill free slots): their `started` is written by the claim.
   * Otherwise they wait in the worker's local queue and stay unstarted in the database until
   * markStarted, so that a dead worker's waiting tasks can be told from the ones that ran. Default true.
   */
  startNow?: boolean
}

/**
 * Claims up to `limit` runnable tasks: highest priority first, then oldest run_at. One statement,
 * `WITH pick AS MATERIALIZED (SELECT … LIMIT n) UPDATE … WHERE id IN pick RETURNING *`, made exclusive
 * by the dialect (see lockForClaim).
 */
export async function claimTasks(d: Dialect, o: ClaimOptions): Promise<Task[]> {
  if (o.limit <= 0) return []
  const rows = await d.claim(async (trx) => {
    // On SQLite inside the claim's IMMEDIATE transaction; on PostgreSQL one more statement before it.
    const queues = await unpaused(d, trx, o.queues)
    if (queues.length === 0) return []
    return trx
      // MATERIALIZED: the pick runs exactly once. Inside `id IN (SELECT … LIMIT n FOR UPDATE SKIP
      // LOCKED)` PostgreSQL may rescan the subquery per row, and each rescan skips the rows the last
      // one locked — claiming more than n tasks.
      .with((wb) => wb('pick').materialized(), (db) =>
        d.lockForClaim(nextRunnable(d, db, queues).limit(o.limit)),
      )
      .updateTable('sq_tasks')
      .set({
        status: 'progress',
        attempts: sql`attempts + 1`,
        worker: o.workerName,
        worker_pid: o.pid,
        worker_id: o.workerId,
        started: o.startNow === false ? null : d.now(),
        modified: d.now(),
        finished: null,
        output: null,
        error: null,
        log: null,
        progress: null,
        cpu_ms: null,
        peak_rss_bytes: null,
        duration_ms: null,
      })
      // By primary key only: the picked rows are locked (PostgreSQL) or the writer is alone (SQLite), so
      // they are still queued; a status filter here would lead SQLite to scan every queued row.
      .where('id', 'in', (eb) => eb.selectFrom('pick').select('pick.id'))
      .returningAll()
      .execute()
  })
  // RETURNING does not keep the pick's order; the worker runs them in claim order.
  return (rows as TaskRow[]).map((row) => toTask(d, row)).sort(inClaimOrder)
}

function inClaimOrder(a: Task, b: Task): number {
  return b.priority - a.priority || a.run_at.localeCompare(b.run_at) || a.created.localeCompare(b.created)
}

/**
 * Records that these runs of a worker, claimed ahead, have started: one statement for every run that
 * began a few ms ago and is still running. A run lost meanwhile is left alone.
 */
export async function markStarted(d: Dialect, workerId: string, runs: RunRef[]): Promise<void> {
  if (runs.length === 0) return
  await d.db
    .updateTable('sq_tasks')
    .set({ started: d.now(), modified: d.now() })
    .where('id', 'in', runs.map((r) => r.id))
    .where('worker_id', '=', workerId)
    .where('status', '=', 'progress')
    .where('started', 'is', null)
    .execute()
}

/** A claimed task back in the queue, its worker forgotten. */
const unclaimed = (d: Dialect) =>
  ({ status: 'queued', worker: null, worker_pid: null, worker_id: null, modified: d.now() }) as const

/**
 * Puts back in the queue a task a dead worker had claimed but not started: it did not run, so it is not
 * failed. Another worker does this, and the dead one may yet wake (SIGSTOP) still holding the token:
 * `attempts` stays (tokens never repeat) and the claim is not charged — one more run is granted instead.
 */
export async function requeueUnstarted(d: Dialect, run: RunRef): Promise<boolean> {
  const result = await d.db
    .updateTable('sq_tasks')
    .set({ ...unclaimed(d), max_attempts: sql`max_attempts + 1` })
    .where(owned(run))
    .where('started', 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/**
 * Gives claimed but unstarted runs back to the queue without spending an attempt: the worker that
 * claimed them stops, or never learnt of its claim. Only their owner may do this — it alone holds
 * the token, so handing `attempts` back cannot let two runs share one.
 */
export async function releaseUnstarted(d: Dialect, workerId: string, runs: RunRef[]): Promise<number> {
  let released = 0
  for (const run of runs) {
    const result = await d.db
      .updateTable('sq_tasks')
      .set({ ...unclaimed(d), attempts: sql`attempts - 1`, started: null })
      .where(owned(run))
      .where('worker_id', '=', workerId)
      .executeTakeFirst()
    released += Number(result.numUpdatedRows)
  }
  return released
}

/**
 * These queues without the paused ones (sq pause): a primary-key read before the claim. Not a NOT
 * EXISTS per candidate row in the claim: that would walk the whole backlog of a paused queue through
 * the index at each claim and each idle poll (~40–150 ms at 100,000 tasks) to find nothing.
 * On PostgreSQL a worker of one queue — the common case — skips this round trip: nextRunnable's gate is
 * exact for one queue, and PostgreSQL tests it before reading the index (gatesBeforeScan). A pause
 * committed after this read is caught by the gate too (that claim takes nothing; the next one leaves
 * the queue out).
 */
async function unpaused(d: Dialect, db: QueryCreator<Database>, queues: string[]): Promise<string[]> {
  if (queues.length === 0 || (queues.length === 1 && d.gatesBeforeScan)) return queues
  const paused = await db.selectFrom('sq_paused_queues').select('queue').where('queue', 'in', queues).execute()
  if (paused.length === 0) return queues
  const skip = new Set(paused.map((p) => p.queue))
  return queues.filter((q) => !skip.has(q))
}

/**
 * Is any task of these queues runnable now? A plain read, so idle workers can poll often without
 * taking the write lock a claim needs (on SQLite every claim serialises all writers).
 */
export async function hasRunnable(d: Dialect, queues: string[]): Promise<boolean> {
  const live = await unpaused(d, d.db, queues)
  if (live.length === 0) return false
  return (await nextRunnable(d, d.db, live).limit(1).executeTakeFirst()) !== undefined
}

/**
 * Runnable tasks of these queues in claim order: highest priority, then oldest run_at, then oldest.
 * The order matches sq_tasks_claim (queue, priority desc, run_at, created) WHERE status = 'queued', so
 * the first rows come straight off that index however large the table.
 *
 * The gate: none of `queues` is paused. It names no column of sq_tasks: PostgreSQL evaluates it once,
 * before the index is read (see Dialect.gatesBeforeScan), so for one queue it alone keeps a paused
 * queue's backlog unread. Otherwise `unpaused` has left the paused queues out first.
 */
function nextRunnable(d: Dialect, db: QueryCreator<Database>, queues: string[]) {
  return db
    .selectFrom('sq_tasks')
    .select('id')
    .where('status', '=', 'queued')
    .where('queue', 'in', queues)
    .where('run_at', '<=', d.now())
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('sq_paused_queues').select('sq_paused_queues.queue').where('sq_paused_queues.queue', 'in', queues))))
    .orderBy('priority', 'desc')
    .orderBy('run_at')
    .orderBy('created')
}

const owned = (run: RunRef) => (eb: any) =>
  eb.and([eb('id', '=', run.id), eb('attempts', '=', run.attempt), eb('status', '=', 'progress')])

/**
 * Appends a batch of output and/or log to a run: an INSERT per stream, so O(size of the batch).
 * Returns false when the run no longer owns the task (then nothing is written).
 */
export async function appendChunks(
  d: Dialect,
  run: RunRef,
  batch: { output?: string; log?: string; progress?: Progress },
): Promise<boolean> {
  return d.writeTransaction(async (trx) => {
    const touched = await trx
      .updateTable('sq_tasks')
      .set({
        modified: d.now(),
        ...(batch.progress ? { progress: JSON.stringify(batch.progress) } : {}),
      })
      .where(owned(run))
      .executeTakeFirst()
    if (Number(touched.numUpdatedRows) !== 1) return false
    const rows = (['output', 'log'] as const)
      .filter((stream) => batch[stream])
      .map((stream) => ({ task_id: run.id, attempt: run.attempt, stream, data: storableText(batch[stream]!) }))
    if (rows.length > 0) await trx.insertInto('sq_task_chunks').values(rows).execute()
    return true
  })
}

export interface RunOutcome {
  status: Extract<Status, 'completed' | 'failed' | 'cancelled' | 'queued'>
  error?: string | null
  /** For a retry (status queued): seconds before it may run again. */
  retryAfterSeconds?: number
  /**
   * Status queued, uncharged: the worker stopped before the run finished (not the task's failure). The
   * attempt is handed back, the run forgotten, and its partial output kept in the log.
   */
  givenBack?: true
  cpu_ms?: number | null
  peak_rss_bytes?: number | null
  duration_ms?: number | null
  /** Output, log and progress not yet written as chunks: they end the run's streams. */
  tail?: { output?: string; log?: string; progress?: Progress }
  /**
   * False when the run never wrote a chunk (the worker knows): then ending it is one UPDATE, not a
   * transaction that reads and deletes chunks. Unknown (undefined) means there may be some.
   */
  chunksWritten?: boolean
  /**
   * When the run started and ended, in ms since the epoch by the database's clock (the worker maps
   * its own clock onto it): the record shows when the process really ran, not when the batched
   * verdict reached the database.
   */
  ran?: { startedAt: number; endedAt: number }
}
/** A time of `ran` as the timestamp column takes it. */
const timestamp = (d: Dialect, ms: number | undefined) =>
  sql<string>`cast(${ms === undefined ? null : new Date(ms).toISOString()} as ${sql.raw(d.timestampType)})`

/**
 * Ends a run: folds its chunks (and the tail) into output and log, sets the verdict, deletes the
 * chunks — atomically, fenced by the run's attempt. Returns false (and changes nothing) when the run
 * had already lost the task.
 */
export async function endRun(d: Dialect, run: RunRef, outcome: RunOutcome): Promise<boolean> {
  if (outcome.chunksWritten === false) {
    const result = await d.exclusive((db) =>
      db.updateTable('sq_tasks').set(verdict(d, outcome, '', '')).where(owned(run)).executeTakeFirst(),
    )
    return Number(result.numUpdatedRows) === 1
  }
  return d.writeTransaction(async (trx) => {
    const { output, log } = await readChunks({ db: trx }, run.id, run.attempt)
    const result = await trx.updateTable('sq_tasks').set(verdict(d, outcome, output, log)).where(owned(run)).executeTakeFirst()
    if (Number(result.numUpdatedRows) !== 1) return false
    await trx.deleteFrom('sq_task_chunks').where('task_id', '=', run.id).execute()
    return true
  })
}

export interface Verdict {
  run: RunRef
  outcome: RunOutcome
}

/** Rows per batched verdict statement (11 parameters each, far below either database's limit). */
export const MAX_VERDICT_BATCH = 100

/**
 * Ends many runs at once — group commit: one statement for all the runs that wrote no chunks (the
 * common case of short tasks), each row still fenced by its attempt; the others through endRun.
 * Returns the ids whose verdict was recorded (a run that had lost its task is left out).
 */
export async function endRuns(d: Dialect, verdicts: Verdict[]): Promise<Set<string>> {
  const recorded = new Set<string>()
  const batched = (v: Verdict) => v.outcome.chunksWritten === false && !v.outcome.givenBack
  const simple = verdicts.filter(batched)
  for (const v of verdicts.filter((v) => !batched(v))) {
    if (await endRun(d, v.run, v.outcome)) recorded.add(v.run.id)
  }
  for (let at = 0; at < simple.length; at += MAX_VERDICT_BATCH) {
    const rows = await d.exclusive((db) => endManyWithoutChunks(d, simple.slice(at, at + MAX_VERDICT_BATCH)).execute(db))
    for (const row of rows.rows) recorded.add(row.id)
  }
  return recorded
}

/**
 * `WITH v(…) AS (VALUES …) UPDATE sq_tasks … FROM v`: both databases run it (SQLite ≥ 3.33). The casts
 * type PostgreSQL's parameters, which VALUES alone would leave as text.
 */
function endManyWithoutChunks(d: Dialect, verdicts: Verdict[]) {
  const int = (value: number | null | undefined) => sql`cast(${value ?? null} as integer)`
  const text = (value: string | null | undefined) => sql`cast(${value ?? null} as text)`
  const values = verdicts.map(({ run, outcome }) => {
    const tail = outcome.tail ?? {}
    return sql`(${text(run.id)}, ${int(run.attempt)}, ${text(outcome.status)}, ${text(storableText(tail.output ?? null))},
      ${text(storableText(tail.log ?? null))}, ${text(storableText(outcome.error ?? null))}, ${int(outcome.cpu_ms)},
      ${sql`cast(${outcome.peak_rss_bytes ?? null} as bigint)`}, ${int(outcome.duration_ms ?? 0)},
      ${int(outcome.status === 'queued' ? outcome.retryAfterSeconds ?? 0 : null)},
      ${text(tail.progress ? JSON.stringify(tail.progress) : null)},
      ${timestamp(d, outcome.ran?.startedAt)}, ${timestamp(d, outcome.ran?.endedAt)})`
  })
  const ended = sql`v.status <> 'queued'`
  return sql<{ id: string }>`
    with v(task_id, attempt, status, output, log, error, cpu_ms, peak_rss_bytes, duration_ms, retry_after, progress,
           started_at, ended_at)
      as (values ${sql.join(values)})
    update sq_tasks set
      status = v.status, output = v.output, log = v.log, error = v.error, cpu_ms = v.cpu_ms,
      peak_rss_bytes = v.peak_rss_bytes, duration_ms = v.duration_ms, modified = ${d.now()},
      progress = coalesce(v.progress, sq_tasks.progress),
      started = coalesce(v.started_at, sq_tasks.started),
      finished = case when ${ended} then coalesce(v.ended_at, ${d.now()}) else null end,
      run_at = case when ${ended} then sq_tasks.run_at else ${d.nowPlusSeconds(sql<number>`v.retry_after`)} end,
      worker_id = case when ${ended} then sq_tasks.worker_id else null end
    from v
    where sq_tasks.id = v.task_id and sq_tasks.attempts = v.attempt and sq_tasks.status = 'progress'
    returning sq_tasks.id`
}

/** The columns a verdict writes; `written` output and log are what the chunks held. */
function verdict(d: Dialect, outcome: RunOutcome, writtenOutput: string, writtenLog: string) {
  const retry = outcome.status === 'queued'
  const output = writtenOutput + (outcome.tail?.output ?? '')
  const log = writtenLog + (outcome.tail?.log ?? '')
  if (outcome.givenBack) return givenBack(d, log, output)
  return {
    status: outcome.status,
    output: output === '' ? null : storableText(output),
    log: log === '' ? null : storableText(log),
    error: storableText(outcome.error ?? null),
    modified: d.now(),
    ...(outcome.ran ? { started: timestamp(d, outcome.ran.startedAt) } : {}),
    finished: retry ? null : outcome.ran ? timestamp(d, outcome.ran.endedAt) : d.now(),
    cpu_ms: outcome.cpu_ms ?? null,
    peak_rss_bytes: outcome.peak_rss_bytes ?? null,
    duration_ms: outcome.duration_ms ?? null,
    ...(outcome.tail?.progress ? { progress: JSON.stringify(outcome.tail.progress) } : {}),
    ...(retry ? { run_at: d.nowPlusSeconds(outcome.retryAfterSeconds ?? 0), worker_id: null } : {}),
  }
}

/** The columns of a run given back at its worker's stop: queued again at once, its attempt handed back. */
function givenBack(d: Dialect, log: string, output: string) {
  const endLine = (text: string) => (text === '' || text.endsWith('\n') ? text : `${text}\n`)
  const partial = output === '' ? '' : endLine(`[sq] output so far:\n${output}`)
  const kept = `${endLine(log)}${partial}[sq] the worker stopped before the task finished: queued again without spending an attempt\n`
  return {
    ...unclaimed(d),
    attempts: sql<number>`attempts - 1`,
    started: null,
    finished: null,
    run_at: d.now(),
    output: null,
    error: null,
    log: storableText(kept),
    progress: null,
  }
}

/** Of these runs, the ones that no longer own their task (cancelled, requeued or declared lost). */
export async function lostRuns(d: Dialect, runs: RunRef[]): Promise<RunRef[]> {
  if (runs.length === 0) return []
  const rows = await d.db
    .selectFrom('sq_tasks')
    .select(['id', 'attempts', 'status'])
    .where('id', 'in', runs.map((r) => r.id))
    .execute()
  const current = new Map(rows.map((r) => [r.id, r]))
  return runs.filter((run) => {
    const row = current.get(run.id)
    return !row || row.status !== 'progress' || row.attempts !== run.attempt
  })
}

/** Cancels a task in progress: its run ends as cancelled, keeping the output it had made (cancelTask). */
export async function cancelRunning(d: Dialect, id: string): Promise<boolean> {
  return (await cancelTask(d, id, ['progress']))?.cancelled === true
}
