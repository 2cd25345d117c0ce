import type { WorkerInfo } from '../types.js'
import { type Backend, runStatement } from './backend.js'
import type { TaskRow } from './task-row.js'
import type { WorkersTable } from './schema.js'

/** What a worker says of itself when it registers; the rest of WorkerInfo the database keeps. */
export type WorkerRegistration = Pick<WorkerInfo, 'id' | 'name' | 'host' | 'pid' | 'queues' | 'concurrency'>

/** On the kept connection, as the heartbeat: an idle worker holds that one alone. */
export async function registerWorker(backend: Backend, w: WorkerRegistration): Promise<void> {
  const { now } = backend.spelling
  const sql = (p: () => string) =>
    `insert into "sq_workers" ("id", "name", "host", "pid", "queues", "concurrency", "running", "started", "last_heartbeat")
      values (${p()}, ${p()}, ${p()}, ${p()}, ${p()}, ${p()}, 0, ${now}, ${now})`
  const values = [w.id, w.name, w.host, w.pid, w.queues.join(','), w.concurrency]
  await runStatement(backend.kept, 'register_worker', sql, values)
}

/** Beats, returning the database's clock in ms (for the offset); null when the row is gone: judged dead, it stops. */
export async function heartbeat(backend: Backend, id: string, running: number): Promise<number | null> {
  const { now, nowMs } = backend.spelling
  const sql = (p: () => string) =>
    `update "sq_workers" set "last_heartbeat" = ${now}, "running" = ${p()} where "id" = ${p()} returning ${nowMs} as "ms"`
  const [row] = await runStatement<{ ms: number }>(backend.kept, 'heartbeat', sql, [running, id])
  return row ? Number(row.ms) : null
}

/** A worker as its last heartbeat left it. */
export type Peer = Pick<WorkerInfo, 'id' | 'queues' | 'concurrency' | 'running'>

/** At each heartbeat, in one read: the live workers, and whether a rescue is due (a silent worker, an orphaned run). */
export async function survey(backend: Backend, timeout: number): Promise<{ live: Peer[]; rescueDue: boolean }> {
  const sql = (p: () => string) => {
    const cutoff = () => backend.spelling.nowPlusSeconds(p())
    const orphans = `select 1 from "sq_tasks" "t" left join "sq_workers" "x" on "x"."id" = "t"."worker_id"
      where "t"."status" = 'progress' and ("x"."id" is null or "x"."last_heartbeat" < ${cutoff()})`
    return `select "w"."id", "w"."queues", "w"."concurrency", "w"."running", "w"."last_heartbeat" >= ${cutoff()} as "live", "o"."orphans"
      from (select exists (${orphans}) as "orphans") "o" left join "sq_workers" "w" on 1 = 1`
  }
  type Row = Pick<WorkersTable, 'concurrency' | 'running' | 'queues'> & {
    id: string | null
    live: unknown
    orphans: unknown
  }
  const rows = await runStatement<Row>(backend.kept, 'survey', sql, [-timeout, -timeout])
  const workers = rows.filter((r) => r.id !== null)
  return {
    live: workers
      .filter((r) => Boolean(r.live))
      .map((r) => ({ id: r.id!, queues: r.queues.split(','), concurrency: r.concurrency, running: r.running })),
    rescueDue: Boolean(rows[0]?.orphans) || workers.some((r) => !r.live),
  }
}

export async function unregisterWorker(backend: Backend, id: string): Promise<void> {
  await backend.db.deleteFrom('sq_workers').where('id', '=', id).execute()
}

/** Workers that heartbeated within the timeout, `running` counted now from their tasks (sq_tasks_running). */
export async function liveWorkers(backend: Backend, heartbeatTimeout: number): Promise<WorkerInfo[]> {
  const rows = await backend.db
    .selectFrom('sq_workers as w')
    .select(['w.id', 'w.name', 'w.host', 'w.pid', 'w.queues', 'w.concurrency', 'w.started', 'w.last_heartbeat'])
    .select((eb) =>
      eb
        .selectFrom('sq_tasks as t')
        .select((c) => c.fn.countAll<number | string>().as('n'))
        .whereRef('t.worker_id', '=', 'w.id')
        .where('t.status', '=', 'progress')
        .as('running'),
    )
    .where('w.last_heartbeat', '>=', backend.nowPlusSeconds(-heartbeatTimeout))
    .orderBy('w.host')
    .orderBy('w.pid')
    .limit(200)
    .execute()
  return rows.map((r) => ({
    ...r,
    running: Number(r.running ?? 0),
    queues: r.queues.split(','),
    started: backend.toIso(r.started),
    last_heartbeat: backend.toIso(r.last_heartbeat),
  }))
}

/** A run in progress (RunRef); not `started` when its worker claimed it ahead and had not begun it. */
export type OrphanedRun = ReturnType<typeof toOrphan>

/** The columns of sq_tasks an OrphanedRun is made of. */
const ORPHAN_COLUMNS = ['id', 'claims', 'attempts', 'max_attempts', 'worker', 'started'] as const

const toOrphan = (r: Pick<TaskRow, (typeof ORPHAN_COLUMNS)[number]>) => ({
  id: r.id,
  claim: r.claims,
  worker: r.worker,
  attemptsLeft: r.attempts < r.max_attempts,
  started: r.started !== null,
})

/** Runs whose worker has not heartbeated within the timeout (or has no row) by the database's clock. */
export async function orphanedRuns(backend: Backend, heartbeatTimeout: number): Promise<OrphanedRun[]> {
  const rows = await backend.db
    .selectFrom('sq_tasks as t')
    .leftJoin('sq_workers as w', 'w.id', 't.worker_id')
    .select(ORPHAN_COLUMNS.map((c) => `t.${c}` as const))
    .where('t.status', '=', 'progress')
    .where((eb) =>
      eb.or([eb('w.id', 'is', null), eb('w.last_heartbeat', '<', backend.nowPlusSeconds(-heartbeatTimeout))]),
    )
    .limit(100)
    .execute()
  return rows.map(toOrphan)
}

/**
 * This worker's runs claimed over `olderThanSeconds` ago (`modified`: the claim sets it, and an unstarted claim
 * has no `started`): any it does not know was lost between claim and answer. On the kept connection, as the
 * heartbeat: an idle worker holds that one alone.
 */
export async function runsOfWorker(
  backend: Backend,
  workerId: string,
  olderThanSeconds: number,
): Promise<OrphanedRun[]> {
  const sql = (p: () => string) =>
    `select ${ORPHAN_COLUMNS.map((c) => `"${c}"`).join(', ')} from "sq_tasks"
      where "status" = 'progress' and "worker_id" = ${p()} and "modified" < ${backend.spelling.nowPlusSeconds(p())} limit 1000`
  const rows = await runStatement<Parameters<typeof toOrphan>[0]>(backend.kept, 'runs_of_worker', sql, [
    workerId,
    -olderThanSeconds,
  ])
  return rows.map(toOrphan)
}

/** The database's clock in ms (a fraction too): the one clock of every host's records. */
export async function databaseTime(backend: Backend): Promise<number> {
  // Not through Kysely: its work between the local clock's read and the send skews the offset (presence.ts).
  const [row] = await backend.query<{ ms: number }>(`select ${backend.spelling.nowMs} as "ms"`, [], 'database_time')
  return Number(row!.ms)
}

/** Forgets workers silent for longer than the timeout, once their runs have been rescued. */
export async function deleteDeadWorkers(backend: Backend, heartbeatTimeout: number): Promise<void> {
  await backend.db
    .deleteFrom('sq_workers')
    .where('last_heartbeat', '<', backend.nowPlusSeconds(-heartbeatTimeout))
    .execute()
}
