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
}

/**
 * Claims up to `limit` runnable tasks: highest priority first, then oldest run_at. One statement,
 * `WITH pick AS MATERIALIZED (SELECT … LIMIT n) UPDATE … WHERE id IN pick RETURNING *`, made exclusive
 * by the dialect (see lockForClaim).
 */
export async function claimTasks(d: Dialect, o: ClaimOptions): Promise<Task[]> {
  if (o.limit <= 0) return []
  const rows = await d.exclusive((trx) =>
    trx
      // MATERIALIZED: the pick runs exactly once. Inside `id IN (SELECT … LIMIT n FOR UPDATE SKIP
      // LOCKED)` PostgreSQL may rescan the subquery per row, and each rescan skips the rows the last
      // one locked — claiming more than n tasks.
      .with((wb) => wb('pick').materialized(), (db) =>
        d.lockForClaim(nextRunnable(d, db, o.queues).limit(o.limit)),
      )
      .updateTable('sq_tasks')
      .set({
        status: 'progress',
        attempts: sql`attempts + 1`,
        worker: o.workerName,
        worker_pid: o.pid,
        worker_id: o.workerId,
        started: d.now(),
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
      .execute(),
  )
  return (rows as TaskRow[]).map((row) => toTask(d, row))
}

/**
 * Is any task of these queues runnable now? A plain read, so idle workers can poll often without
 * taking the write lock a claim needs (on SQLite every claim serialises all writers).
 */
export async function hasRunnable(d: Dialect, queues: string[]): Promise<boolean> {
  return (await nextRunnable(d, d.db, queues).limit(1).executeTakeFirst()) !== undefined
}

/**
 * Runnable tasks of these queues in claim order: highest priority, then oldest run_at, then oldest.
 * The order matches sq_tasks_claim (queue, priority desc, run_at, created) WHERE status = 'queued', so
 * the first rows come straight off that index however large the table.
 */
function nextRunnable(d: Dialect, db: QueryCreator<Database>, queues: string[]) {
  return db
    .selectFrom('sq_tasks')
    .select('id')
    .where('status', '=', 'queued')
    .where('queue', 'in', queues)
    .where('run_at', '<=', d.now())
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
}

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

/** The columns a verdict writes; `written` output and log are what the chunks held. */
function verdict(d: Dialect, outcome: RunOutcome, writtenOutput: string, writtenLog: string) {
  const retry = outcome.status === 'queued'
  const output = writtenOutput + (outcome.tail?.output ?? '')
  const log = writtenLog + (outcome.tail?.log ?? '')
  return {
    status: outcome.status,
    output: output === '' ? null : storableText(output),
    log: log === '' ? null : storableText(log),
    error: storableText(outcome.error ?? null),
    modified: d.now(),
    finished: retry ? null : d.now(),
    cpu_ms: outcome.cpu_ms ?? null,
    peak_rss_bytes: outcome.peak_rss_bytes ?? null,
    duration_ms: outcome.duration_ms ?? null,
    ...(outcome.tail?.progress ? { progress: JSON.stringify(outcome.tail.progress) } : {}),
    ...(retry ? { run_at: d.nowPlusSeconds(outcome.retryAfterSeconds ?? 0), worker_id: null } : {}),
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
