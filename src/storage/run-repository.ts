import { type Backend, runStatement, type Session, type SqlRunner } from './backend.js'
import { owned, type RunRef, type RunTail, storableText } from './fencing.js'
import { CLEARED_RESULTS, type ClaimedTask, type TaskRow, toClaimedTask } from './task-row.js'

/** A run's queries: claim, stream output, ownership. Every write after the claim is fenced (fencing.ts). */

export interface ClaimOptions {
  workerId: string
  workerName: string
  pid: number
  queues: string[]
  limit: number
  /** The claim writes `started` (default), else markStarted does: a dead worker's waiting tasks never ran. */
  startNow?: boolean
}

/** A claimed task, with its claim: the fencing token of the run (RunRef). Its args are the stored text. */
export type Claimed = ClaimedTask & { claim: number }

/** Claims up to `limit` runnable tasks in claim order, in one statement (RETURNING keeps none: see claimTieBreak). */
export async function claimTasks(backend: Backend, o: ClaimOptions): Promise<Claimed[]> {
  if (o.limit <= 0) return []
  const rows = await backend.claim(async (trx) => {
    const queues = await unpaused(backend, trx, o.queues)
    if (queues.length === 0) return []
    const startNow = o.startNow !== false
    const name = `claim_${queues.length}${startNow ? '_started' : ''}`
    const values = [...runnableValues(queues, o.limit), o.workerName, o.pid, o.workerId]
    return runStatement<TaskRow & { tie_break: number }>(
      trx,
      name,
      (p) => claimSql(backend, p, queues, startNow),
      values,
    )
  })
  return rows
    .map((row) => ({ task: toClaimedTask(backend, row), claim: row.claims, tieBreak: Number(row.tie_break) }))
    .sort((a, b) => inClaimOrder(a.task, b.task) || a.tieBreak - b.tieBreak)
    .map(({ task, claim }) => ({ ...task, claim }))
}

function inClaimOrder(a: ClaimedTask, b: ClaimedTask): number {
  return b.priority - a.priority || a.run_at.localeCompare(b.run_at) || a.created.localeCompare(b.created)
}

/** The claim; its values: runnableValues, then the worker's name, pid and id. */
function claimSql(backend: Backend, p: () => string, queues: string[], startNow: boolean): string {
  const { spelling } = backend
  // MATERIALIZED: the pick runs once. PostgreSQL may rescan `id IN (SELECT … LIMIT n FOR UPDATE SKIP
  // LOCKED)` per row, each rescan skipping the rows the last one locked: more than n claimed.
  const pick = `with "pick" as materialized (${nextRunnableSql(spelling, p, queues.length, spelling.lockForClaim)})`
  const claimed = [
    `"status" = 'progress'`,
    `"attempts" = "attempts" + 1`,
    `"claims" = "claims" + 1`,
    `"worker" = ${p()}`,
    `"worker_pid" = ${p()}`,
    `"worker_id" = ${p()}`,
    `"started" = ${startNow ? spelling.now : 'null'}`,
    `"modified" = ${spelling.now}`,
    ...Object.keys(CLEARED_RESULTS).map((column) => `"${column}" = null`),
  ].join(', ')
  if (spelling.claimTieBreak === 'rowid') {
    // By primary key only: the writer is alone, so the picked rows are still queued; a status filter
    // here would lead SQLite to scan every queued row.
    return `${pick} update "sq_tasks" set ${claimed} where "id" in (select "pick"."id" from "pick") returning *, rowid as "tie_break"`
  }
  // Each picked id with its place: a materialized CTE reads back in the order written, and a window
  // without ORDER BY numbers rows as it reads them (FOR UPDATE allows no window in the pick itself).
  // The picked rows are locked, so they are still queued.
  return `${pick}, "ordered" as (select "pick"."id", cast(row_number() over () as integer) as "tie_break" from "pick")
    update "sq_tasks" set ${claimed} from "ordered" where "sq_tasks"."id" = "ordered"."id"
    returning "sq_tasks".*, "ordered"."tie_break"`
}

/** Records that these runs, claimed ahead, have started; a run lost meanwhile is left alone. */
export async function markStarted(backend: Backend, workerId: string, runs: RunRef[]): Promise<void> {
  if (runs.length === 0) return
  const { now } = backend.spelling
  const sql = (p: () => string) => `update "sq_tasks" set "started" = ${now}, "modified" = ${now}
    where "id" in ${idsIn(backend, p())} and "worker_id" = ${p()} and "status" = 'progress' and "started" is null`
  await runStatement(backend, 'mark_started', sql, [idsOf(runs), workerId])
}

/** Runs as one JSON parameter (SqlSpelling.jsonRows): one statement for any number, not one per length. */
const idsOf = (runs: RunRef[]) => JSON.stringify(runs.map((r) => [r.id]))
const idsIn = (backend: Backend, parameter: string) =>
  `(select cast(r.value ->> 0 as ${backend.idType}) from ${backend.spelling.jsonRows(parameter)})`

/**
 * These queues without the paused ones: a primary-key read, where a NOT EXISTS per candidate row would
 * walk a paused queue's whole backlog at each claim (~40–150 ms at 100,000 tasks). PostgreSQL skips it,
 * each queue's gate tested before its index walk (gatesBeforeScan); the gate catches a later pause.
 */
async function unpaused(backend: Backend, trx: SqlRunner, queues: string[]): Promise<string[]> {
  if (queues.length === 0 || backend.gatesBeforeScan) return queues
  const sql = (p: () => string) =>
    `select "queue" from "sq_paused_queues" where "queue" in (${queues.map(() => p()).join(', ')})`
  const paused = await runStatement<{ queue: string }>(trx, `paused_${queues.length}`, sql, queues)
  if (paused.length === 0) return queues
  const skip = new Set(paused.map((p) => p.queue))
  return queues.filter((q) => !skip.has(q))
}

/**
 * Ms until the next task of these queues comes due, by the database's clock (≤ 0: now; null: none queued): a read,
 * off the claim's index; the earliest future run_at is sought only without a runnable task (COALESCE).
 */
export async function nextDue(backend: Backend, queues: string[]): Promise<number | null> {
  const live = await unpaused(backend, backend.kept, queues)
  if (live.length === 0) return null
  const sql = (p: () => string) => {
    const queues = () => live.map(() => p()).join(', ')
    const runnable = nextRunnableSql(backend.spelling, p, live.length, '', '"run_at"')
    const future = `select min("run_at") from "sq_tasks" where "status" = 'queued' and "queue" in (${queues()})
      and not exists (select 1 from "sq_paused_queues" where "sq_paused_queues"."queue" = "sq_tasks"."queue")`
    return `select coalesce((${runnable}), (${future})) as "due", ${backend.spelling.nowMs} as "now"`
  }
  const values = [...runnableValues(live, 1), ...live]
  const [row] = await runStatement<{ due: Date | string | null; now: number }>(
    backend.kept,
    `next_due_${live.length}`,
    sql,
    values,
  )
  return row?.due == null ? null : Date.parse(backend.toIso(row.due)) - Number(row.now)
}

/**
 * The first `limit` runnable tasks of these queues in claim order, each queue's straight off the index
 * sq_tasks_claim (queue first): one walk per queue, each locked as it reads (`lock`), merged. With
 * `queue in (…)` the index gives no order across queues, and the whole backlog of those queues was sorted
 * at each claim. A walk's rows left out of the merge stay locked until the claim commits: others skip them.
 * Values: runnableValues.
 */
function nextRunnableSql(
  spelling: Session['spelling'],
  p: () => string,
  queueCount: number,
  lock: string,
  column = '"id"',
) {
  const order = `order by "priority" desc, "run_at", "created"`
  // A literal status: a statement kept prepared may be planned once for any value, and only the
  // literal lets that plan use the partial index of queued tasks. The gate names the walk's queue
  // (a pause since `unpaused` read them); each walk a subquery of its own: no UNION member may lock.
  const walk = (i: number) => `select * from (select "id", "priority", "run_at", "created" from "sq_tasks"
    where "status" = 'queued' and "queue" = ${p()} and "run_at" <= ${spelling.now}
    and not exists (select 1 from "sq_paused_queues" where "sq_paused_queues"."queue" = ${p()})
    ${order} limit ${p()}${lock}) as "q${i}"`
  const walks = Array.from({ length: queueCount }, (_, i) => walk(i)).join(' union all ')
  return `select ${column} from (${walks}) as "runnable" ${order} limit ${p()}`
}

/** The values of nextRunnableSql: each queue twice and the limit, then the limit. */
const runnableValues = (queues: string[], limit: number) => [...queues.flatMap((q) => [q, q, limit]), limit]

/** Appends output and/or log to a run, an INSERT per stream; false (nothing written) once it lost its task. */
export async function appendChunks(backend: Backend, run: RunRef, batch: RunTail): Promise<boolean> {
  const touch = (p: () => string) =>
    `update "sq_tasks" set "modified" = ${backend.spelling.now}, "progress" = coalesce(${p()}, "progress") where ${owned(p)} returning "id"`
  const append = (p: () => string) =>
    `insert into "sq_task_chunks" ("task_id", "claim", "stream", "data") values (${p()}, ${p()}, ${p()}, ${p()})`
  return backend.writeTransaction(async (trx) => {
    const progress = batch.progress ? JSON.stringify(batch.progress) : null
    if ((await runStatement(trx, 'touch_run', touch, [progress, run.id, run.claim])).length !== 1) return false
    for (const stream of ['output', 'log'] as const) {
      const data = batch[stream]
      if (data) await runStatement(trx, 'append_chunk', append, [run.id, run.claim, stream, storableText(data)])
    }
    return true
  })
}

/** Of these runs, the ones that no longer own their task (cancelled, requeued or declared lost). */
export async function lostRuns(backend: Backend, runs: RunRef[]): Promise<RunRef[]> {
  if (runs.length === 0) return []
  const sql = (p: () => string) =>
    `select "id", "claims", "status" from "sq_tasks" where "id" in ${idsIn(backend, p())}`
  const rows = await runStatement<{ id: string; claims: number; status: string }>(backend, 'lost_runs', sql, [
    idsOf(runs),
  ])
  const current = new Map(rows.map((r) => [r.id, r]))
  return runs.filter((run) => {
    const row = current.get(run.id)
    return row?.status !== 'progress' || row.claims !== run.claim
  })
}
