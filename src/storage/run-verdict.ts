import { sql } from 'kysely'
import type { Status } from '../types.js'
import type { Backend } from './backend.js'
import { owned, type RunRef } from './fencing.js'
import { readChunks } from './task-repository.js'
import { kyselyRunner } from './kysely-runner.js'
import { CLEARED_CLAIM, CLEARED_RESULTS, sqlType, usageColumns, USAGE, type RunUsage } from './task-row.js'
import { storableText } from './text.js'
import { precompiled } from './precompiled.js'
import type { Progress } from '../types.js'

/**
 * The end of a run: its verdict (completed, failed, cancelled, or queued again for a retry) written
 * with its output, log and usage, fenced by the run's attempt (`owned`, run-repository.ts).
 */

/** How a run ended, as the worker tells the storage; its usage fields are RunUsage's (cpuMs, …). */
export interface RunOutcome extends RunUsage {
  status: Extract<Status, 'completed' | 'failed' | 'cancelled' | 'queued'>
  error?: string | null
  /** For a retry (status queued): seconds before it may run again. */
  retryAfterSeconds?: number
  /**
   * Status queued, uncharged: the worker stopped before the run finished (not the task's failure). The
   * attempt is handed back, the run forgotten, and its partial output kept in the log.
   */
  givenBack?: true
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
const timestamp = (d: Backend, ms: number | undefined) =>
  sql<string>`cast(${ms === undefined ? null : new Date(ms).toISOString()} as ${sql.raw(d.timestampType)})`

/**
 * Ends a run: folds its chunks (and the tail) into output and log, sets the verdict, deletes the
 * chunks — atomically, fenced by the run's attempt. Returns false (and changes nothing) when the run
 * had already lost the task.
 */
export async function endRun(d: Backend, run: RunRef, outcome: RunOutcome): Promise<boolean> {
  if (outcome.chunksWritten === false) {
    const result = await d.exclusive((db) =>
      db
        .updateTable('sq_tasks')
        .set(verdict(d, outcome, '', ''))
        .where(owned(run))
        .executeTakeFirst(),
    )
    return Number(result.numUpdatedRows) === 1
  }
  return d.writeTransaction(async (trx) => {
    const { output, log } = await readChunks(kyselyRunner(d.spelling, trx), run.id, run.claim)
    const result = await trx
      .updateTable('sq_tasks')
      .set(verdict(d, outcome, output, log))
      .where(owned(run))
      .executeTakeFirst()
    if (Number(result.numUpdatedRows) !== 1) return false
    await trx.deleteFrom('sq_task_chunks').where('task_id', '=', run.id).execute()
    return true
  })
}

export interface Verdict {
  run: RunRef
  outcome: RunOutcome
}

/** Rows per batched verdict statement. */
export const MAX_VERDICT_BATCH = 100

/**
 * Ends many runs at once — group commit: one statement for all the runs that wrote no chunks (the
 * common case of short tasks), each row still fenced by its attempt; the others through endRun.
 * Returns the ids whose verdict was recorded (a run that had lost its task is left out).
 */
export async function endRuns(d: Backend, verdicts: Verdict[]): Promise<Set<string>> {
  const recorded = new Set<string>()
  const batched = (v: Verdict) => v.outcome.chunksWritten === false && !v.outcome.givenBack
  const simple = verdicts.filter(batched)
  for (const v of verdicts.filter((v) => !batched(v))) {
    if (await endRun(d, v.run, v.outcome)) recorded.add(v.run.id)
  }
  for (let at = 0; at < simple.length; at += MAX_VERDICT_BATCH) {
    const statement = endManyWithoutChunks(d, simple.slice(at, at + MAX_VERDICT_BATCH))
    const rows = await d.exclusive((db) => db.executeQuery<{ id: string }>(statement))
    for (const row of rows.rows) recorded.add(row.id)
  }
  return recorded
}

/** The columns of a batched verdict's rows, in the order verdictRows writes them, with their SQL types. */
function verdictColumns(d: Backend): Array<[name: string, type: string]> {
  return [
    ['task_id', d.idType],
    ['claim', 'integer'],
    ['status', 'text'],
    ['output', 'text'],
    ['log', 'text'],
    ['error', 'text'],
    ...USAGE.map(({ column }): [string, string] => [column, sqlType(column, d.timestampType)]),
    ['retry_after', 'integer'],
    ['progress', 'text'],
    ['started_at', d.timestampType],
    ['ended_at', d.timestampType],
  ]
}

/** The verdicts as the JSON rows of endManyWithoutChunks, one array per run in verdictColumns' order. */
function verdictRows(verdicts: Verdict[]): string {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString())
  return JSON.stringify(
    verdicts.map(({ run, outcome }) => {
      const tail = outcome.tail ?? {}
      return [
        run.id,
        run.claim,
        outcome.status,
        storableText(tail.output ?? null),
        storableText(tail.log ?? null),
        storableText(outcome.error ?? null),
        ...USAGE.map(({ field }) => outcome[field] ?? null),
        outcome.status === 'queued' ? (outcome.retryAfterSeconds ?? 0) : null,
        tail.progress ? JSON.stringify(tail.progress) : null,
        iso(outcome.ran?.startedAt),
        iso(outcome.ran?.endedAt),
      ]
    }),
  )
}

/**
 * `WITH v(…) AS (SELECT … FROM <the rows>) UPDATE sq_tasks … FROM v`: both databases run it (SQLite ≥
 * 3.33). The rows travel as one JSON parameter (Backend.jsonRows), so the statement is the same for any
 * number of verdicts: compiled once, kept prepared, where a VALUES list was a statement per batch size
 * — compiled by Kysely at every batch, and on SQLite ~20 large statements held in the statement cache.
 */
function endManyWithoutChunks(d: Backend, verdicts: Verdict[]) {
  return precompiled(
    d,
    'verdicts',
    { rows: (v: Verdict[]) => verdictRows(v) },
    (p) => verdictsQuery(d, p.rows),
    verdicts,
  )
}

function verdictsQuery(d: Backend, rows: unknown) {
  const columns = verdictColumns(d)
  const fields = columns.map(([, type], i) => sql`cast(r.value ->> ${sql.lit(i)} as ${sql.raw(type)})`)
  const ended = sql`v.status <> 'queued'`
  const query = sql<{ id: string }>`
    with v(${sql.raw(columns.map(([name]) => name).join(', '))})
      as (select ${sql.join(fields)} from ${d.jsonRows(rows)})
    update sq_tasks set
      status = v.status, output = v.output, log = v.log, error = v.error,
      ${sql.raw(USAGE.map(({ column }) => `${column} = v.${column}`).join(', '))}, modified = ${d.now()},
      progress = coalesce(v.progress, sq_tasks.progress),
      started = coalesce(v.started_at, sq_tasks.started),
      finished = case when ${ended} then coalesce(v.ended_at, ${d.now()}) else null end,
      run_at = case when ${ended} then sq_tasks.run_at else ${d.nowPlusSeconds(sql<number>`v.retry_after`)} end,
      worker_id = case when ${ended} then sq_tasks.worker_id else null end
    from v
    -- The status as an expression, so that no plan walks the running tasks by status (and reads the
    -- rows again for each, as SQLite did): each row is found by its id.
    where sq_tasks.id = v.task_id and sq_tasks.claims = v.claim and sq_tasks.status || '' = 'progress'
    returning sq_tasks.id`
  return { compile: () => query.compile(d.db) }
}

/** The columns a verdict writes; `written` output and log are what the chunks held. */
function verdict(d: Backend, outcome: RunOutcome, writtenOutput: string, writtenLog: string) {
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
    ...usageColumns(outcome),
    ...(outcome.tail?.progress ? { progress: JSON.stringify(outcome.tail.progress) } : {}),
    ...(retry ? { run_at: d.nowPlusSeconds(outcome.retryAfterSeconds ?? 0), worker_id: null } : {}),
  }
}

/** The columns of a run given back at its worker's stop: queued again at once, its attempt handed back. */
function givenBack(d: Backend, log: string, output: string) {
  const endLine = (text: string) => (text === '' || text.endsWith('\n') ? text : `${text}\n`)
  const partial = output === '' ? '' : endLine(`[sq] output so far:\n${output}`)
  const kept = `${endLine(log)}${partial}[sq] the worker stopped before the task finished: queued again without spending an attempt\n`
  return {
    status: 'queued' as const,
    ...CLEARED_CLAIM,
    ...CLEARED_RESULTS,
    attempts: sql<number>`attempts - 1`,
    modified: d.now(),
    run_at: d.now(),
    log: storableText(kept),
  }
}
