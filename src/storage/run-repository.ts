import { type Selectable, sql, type QueryCreator } from 'kysely'
import type { Progress } from '../types.js'
import { cancelTask } from './control-repository.js'
import type { Backend } from './backend.js'
import { owned, type RunRef } from './fencing.js'
import type { Database, TasksTable } from './schema.js'
import { type Placeholders, precompiled, type Values } from './precompiled.js'
import { CLEARED_RESULTS, type ClaimedTask, toClaimedTask } from './task-row.js'
import { storableText } from './storable-text.js'

/**
 * The queries of one run of a task: claim, stream output, ownership. Every write after the claim names
 * the run by its RunRef and goes through `owned` (fencing.ts), so it changes nothing once the task has
 * left that run (cancelled, requeued, declared lost).
 */

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
 * Claims up to `limit` runnable tasks: highest priority first, then oldest run_at, then oldest, then
 * the order they were inserted. One statement, `WITH pick AS MATERIALIZED (SELECT … LIMIT n) UPDATE …
 * RETURNING *`, made exclusive by the backend (see lockForClaim). RETURNING keeps no order, and the
 * fields alone cannot restore it (tasks enqueued in one millisecond, or in one bulk statement, tie on
 * `created`), so each row also returns what broke such ties in the pick (Backend.claimTieBreak).
 */
/** A claimed task, with its claim: the fencing token of the run (RunRef). Its args are the stored text. */
export type Claimed = ClaimedTask & { claim: number }

export async function claimTasks(backend: Backend, o: ClaimOptions): Promise<Claimed[]> {
  if (o.limit <= 0) return []
  const rows = await backend.claim(async (trx) => {
    // On SQLite inside the claim's IMMEDIATE transaction; on PostgreSQL one more statement before it.
    const queues = await unpaused(backend, trx, o.queues)
    if (queues.length === 0) return []
    const startNow = o.startNow !== false
    const shape = `claim ${queues.length}${startNow ? ' started' : ''}`
    const build = (p: Placeholders<Values<ClaimOptions>>) => claimQuery(backend, trx, p, queues.length, startNow)
    const claim = precompiled(backend, shape, claimValues(queues.length), build, { ...o, queues })
    return (await trx.executeQuery<Selectable<TasksTable> & { tie_break: number }>(claim)).rows
  })
  return rows
    .map((row) => ({ task: toClaimedTask(backend, row), claim: row.claims, tieBreak: Number(row.tie_break) }))
    .sort((a, b) => inClaimOrder(a.task, b.task) || a.tieBreak - b.tieBreak)
    .map(({ task, claim }) => ({ ...task, claim }))
}

function inClaimOrder(a: ClaimedTask, b: ClaimedTask): number {
  return b.priority - a.priority || a.run_at.localeCompare(b.run_at) || a.created.localeCompare(b.created)
}

/** The claim's values, from its options: one placeholder per queue. */
function claimValues(queueCount: number): Values<ClaimOptions> {
  const values: Values<ClaimOptions> = {
    limit: (o) => o.limit,
    workerName: (o) => o.workerName,
    pid: (o) => o.pid,
    workerId: (o) => o.workerId,
  }
  for (let i = 0; i < queueCount; i++) values[`queue${i}`] = (o) => o.queues[i]
  return values
}

function claimQuery(
  backend: Backend,
  db: QueryCreator<Database>,
  p: Placeholders<Values<ClaimOptions>>,
  queueCount: number,
  startNow: boolean,
) {
  const queues = Array.from({ length: queueCount }, (_, i) => p[`queue${i}`]!)
  // MATERIALIZED: the pick runs exactly once. Inside `id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)`
  // PostgreSQL may rescan the subquery per row, and each rescan skips the rows the last one locked —
  // claiming more than n tasks.
  const withPick = db.with(
    (wb) => wb('pick').materialized(),
    (db) => backend.lockForClaim(nextRunnable(backend, db, queues).limit(p.limit!)),
  )
  const claimed = {
    status: 'progress',
    attempts: sql<number>`attempts + 1`,
    claims: sql<number>`claims + 1`,
    worker: p.workerName!,
    worker_pid: p.pid!,
    worker_id: p.workerId!,
    started: startNow ? backend.now() : null,
    modified: backend.now(),
    ...CLEARED_RESULTS,
  } as const
  if (backend.claimTieBreak === 'rowid') {
    // By primary key only: the writer is alone, so the picked rows are still queued; a status filter
    // here would lead SQLite to scan every queued row.
    return withPick
      .updateTable('sq_tasks')
      .set(claimed)
      .where('id', 'in', (eb) => eb.selectFrom('pick').select('pick.id'))
      .returningAll()
      .returning(sql<number>`rowid`.as('tie_break'))
  }
  // Each picked id with its place: a materialized CTE is read back in the order it was written, and a
  // window without ORDER BY numbers rows in the order it reads them. (The pick itself cannot: FOR UPDATE
  // allows no window function.) The picked rows are locked, so they are still queued.
  return withPick
    .with('ordered', (db) =>
      db.selectFrom('pick').select(['pick.id', sql<number>`cast(row_number() over () as integer)`.as('tie_break')]),
    )
    .updateTable('sq_tasks')
    .set(claimed)
    .from('ordered')
    .whereRef('sq_tasks.id', '=', 'ordered.id')
    .returningAll('sq_tasks')
    .returning('ordered.tie_break')
}

/**
 * Records that these runs of a worker, claimed ahead, have started: one statement for every run that
 * began a few ms ago and is still running. A run lost meanwhile is left alone.
 */
export async function markStarted(backend: Backend, workerId: string, runs: RunRef[]): Promise<void> {
  if (runs.length === 0) return
  const values = { ids: (s: MarkSource) => idsOf(s.runs), workerId: (s: MarkSource) => s.workerId }
  const build = (p: Placeholders<typeof values>) =>
    backend.db
      .updateTable('sq_tasks')
      .set({ started: backend.now(), modified: backend.now() })
      .where('id', 'in', inIds(backend, p.ids))
      .where('worker_id', '=', p.workerId)
      .where('status', '=', sql.lit('progress'))
      .where('started', 'is', null)
  const statement = precompiled(backend, 'mark started', values, build, { workerId, runs })
  await backend.db.executeQuery(statement)
}

/**
 * The worker's lists of runs, as one JSON parameter (Backend.jsonRows): one statement for any number
 * of them, where an IN list was a statement per length (each compiled, and on SQLite prepared and
 * cached, anew).
 */
interface MarkSource {
  workerId: string
  runs: RunRef[]
}

const idsOf = (runs: RunRef[]) => JSON.stringify(runs.map((r) => [r.id]))
const inIds = (backend: Backend, ids: unknown) =>
  sql<string>`(select cast(r.value ->> 0 as ${sql.raw(backend.idType)}) from ${backend.jsonRows(ids)})`

/**
 * These queues without the paused ones (sq pause): a primary-key read before the claim. Not a NOT
 * EXISTS per candidate row in the claim: that would walk the whole backlog of a paused queue through
 * the index at each claim and each idle poll (~40–150 ms at 100,000 tasks) to find nothing.
 * On PostgreSQL a worker of one queue — the common case — skips this round trip: nextRunnable's gate is
 * exact for one queue, and PostgreSQL tests it before reading the index (gatesBeforeScan). A pause
 * committed after this read is caught by the gate too (that claim takes nothing; the next one leaves
 * the queue out).
 */
async function unpaused(backend: Backend, db: QueryCreator<Database>, queues: string[]): Promise<string[]> {
  if (queues.length === 0 || (queues.length === 1 && backend.gatesBeforeScan)) return queues
  const paused = await db.selectFrom('sq_paused_queues').select('queue').where('queue', 'in', queues).execute()
  if (paused.length === 0) return queues
  const skip = new Set(paused.map((p) => p.queue))
  return queues.filter((q) => !skip.has(q))
}

/**
 * Is any task of these queues runnable now? A plain read, so idle workers can poll often without
 * taking the write lock a claim needs (on SQLite every claim serialises all writers).
 */
export async function hasRunnable(backend: Backend, queues: string[]): Promise<boolean> {
  const live = await unpaused(backend, backend.db, queues)
  if (live.length === 0) return false
  return (await nextRunnable(backend, backend.db, live).limit(1).executeTakeFirst()) !== undefined
}

/**
 * Runnable tasks of these queues in claim order: highest priority, then oldest run_at, then oldest.
 * The order matches sq_tasks_claim (queue, priority desc, run_at, created) WHERE status = 'queued', so
 * the first rows come straight off that index however large the table.
 *
 * The gate: none of `queues` is paused. It names no column of sq_tasks: PostgreSQL evaluates it once,
 * before the index is read (see Backend.gatesBeforeScan), so for one queue it alone keeps a paused
 * queue's backlog unread. Otherwise `unpaused` has left the paused queues out first.
 */
function nextRunnable(backend: Backend, db: QueryCreator<Database>, queues: string[]) {
  return (
    db
      .selectFrom('sq_tasks')
      .select('id')
      // A literal: a statement kept prepared may be planned once for any value, and only the literal
      // lets that plan use the partial index of queued tasks.
      .where('status', '=', sql.lit('queued'))
      .where('queue', 'in', queues)
      .where('run_at', '<=', backend.now())
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('sq_paused_queues')
              .select('sq_paused_queues.queue')
              .where('sq_paused_queues.queue', 'in', queues),
          ),
        ),
      )
      .orderBy('priority', 'desc')
      .orderBy('run_at')
      .orderBy('created')
  )
}

/**
 * Appends a batch of output and/or log to a run: an INSERT per stream, so O(size of the batch).
 * Returns false when the run no longer owns the task (then nothing is written).
 */
export async function appendChunks(
  backend: Backend,
  run: RunRef,
  batch: { output?: string; log?: string; progress?: Progress },
): Promise<boolean> {
  return backend.writeTransaction(async (trx) => {
    const touched = await trx
      .updateTable('sq_tasks')
      .set({
        modified: backend.now(),
        ...(batch.progress ? { progress: JSON.stringify(batch.progress) } : {}),
      })
      .where(owned(run))
      .executeTakeFirst()
    if (Number(touched.numUpdatedRows) !== 1) return false
    const rows = (['output', 'log'] as const)
      .filter((stream) => batch[stream])
      .map((stream) => ({ task_id: run.id, claim: run.claim, stream, data: storableText(batch[stream]!) }))
    if (rows.length > 0) await trx.insertInto('sq_task_chunks').values(rows).execute()
    return true
  })
}

/** Of these runs, the ones that no longer own their task (cancelled, requeued or declared lost). */
export async function lostRuns(backend: Backend, runs: RunRef[]): Promise<RunRef[]> {
  if (runs.length === 0) return []
  const statement = precompiled(
    backend,
    'lost runs',
    { ids: idsOf },
    (p) =>
      backend.db.selectFrom('sq_tasks').select(['id', 'claims', 'status']).where('id', 'in', inIds(backend, p.ids)),
    runs,
  )
  const { rows } = await backend.db.executeQuery<{ id: string; claims: number; status: string }>(statement)
  const current = new Map(rows.map((r) => [r.id, r]))
  return runs.filter((run) => {
    const row = current.get(run.id)
    return row?.status !== 'progress' || row.claims !== run.claim
  })
}

/** Cancels a task in progress: its run ends as cancelled, keeping the output it had made (cancelTask). */
export async function cancelRunning(backend: Backend, id: string): Promise<boolean> {
  return (await cancelTask(backend, id, ['progress']))?.cancelled === true
}
