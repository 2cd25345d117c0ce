/**
 * `npm run bench:scale`: what sq costs one PostgreSQL as the number of workers grows. For 1, 4, 16 and
 * 64 workers (SCALE_WORKERS; each `sq worker -c 1`, all on this host, on one fresh database):
 *
 * - idle: transactions per second per idle worker over SCALE_IDLE_S seconds (default 30, three heartbeats),
 *   the database's CPU they cost, and the connections they hold;
 * - trickle: SCALE_TASKS no-op tasks (default 200) enqueued one by one SCALE_GAP_MS apart (default 25):
 *   statements and transactions per task beyond the idle load (the enqueue included), the database's CPU
 *   per task, the most connections held, and pickup p50/p99 from the tasks' records (created → started).
 *
 * Then (bench/io-bound.ts, SCALE_IO=0 skips it) 1,000 tasks of `await sleep(1000)` at c=1,000 by sq with
 * --tasks-per-process beside BullMQ's in-process worker; and (bench/backlog.ts, SCALE_BACKLOG=N queued and N
 * ended, default 1,000,000; 0 skips it) claims, reads, an open dashboard and a purge over a big backlog, on
 * PostgreSQL; and (bench/baseline.ts, SCALE_BASELINE=REF, default the commit the goals were set at; '' skips it)
 * no-op throughput at c=4 in the default mode beside that commit's build, in the same run.
 *
 * The workers' runs are on a PostgreSQL cluster of their own (scripts/chaos/cluster.ts: a free port, 200 connections,
 * pg_stat_statements loaded), dropped at the end. Statements are pg_stat_statements' calls in the
 * database; transactions are pg_stat_database's commits and rollbacks, which also count each listening
 * connection's read of every notification (PostgreSQL signals every listener of the database); database
 * CPU is the user and system time of its server processes (/proc/PID/stat, 10 ms ticks). A backend
 * reports its transactions at most once a second and, once idle, within 10 s: each window is read well
 * after it ends.
 */
import fs from 'node:fs'
import type pg from 'pg'
import { openQueue } from '../src/index.js'
import { PgCluster } from '../scripts/chaos/cluster.js'
import { pgClient, scratch } from './env.js'
import { sleep, waitUntil } from './process.js'
import { num, percentile, table } from './report.js'
import { startWorker } from './sq.js'
import { ioBound, ioBoundTable } from './io-bound.js'
import { backlog, printBacklog } from './backlog.js'
import { noopBaseline, noopBaselineTable } from './baseline.js'

const SIZES = (process.env.SCALE_WORKERS ?? '1,4,16,64').split(',').map(Number)
const IDLE_MS = Number(process.env.SCALE_IDLE_S ?? 30) * 1000
const TASKS = Number(process.env.SCALE_TASKS ?? 200)
const GAP_MS = Number(process.env.SCALE_GAP_MS ?? 25)
/** Long enough for every idle backend to have reported its counts (PostgreSQL: within 10 s of idling). */
const STATS_SETTLE_MS = 11_000
const TICK_MS = 10
const IO = process.env.SCALE_IO !== '0'
const BACKLOG = Number(process.env.SCALE_BACKLOG ?? 1_000_000)
const REGISTER_MS = 90_000
/** The commit of main when the goals of bench:scale were set: no-op throughput must be at least its. */
const BASELINE = process.env.SCALE_BASELINE ?? '75f2715'

interface Figures {
  workers: number
  registered: number
  /** Workers that failed to start (e.g. the server refused their connection), with the first reason. */
  refused: number
  refusal?: string
  connections: number
  peakConnections: number
  idleStatementsPerWorkerS: number
  idleTxPerWorkerS: number
  idleCpuPerWorkerPct: number
  statementsPerTask: number
  txPerTask: number
  cpuMsPerTask: number
  pickups: number[]
}

/** Statements, commits + rollbacks of the database so far, and its server processes. */
async function load(stats: pg.Client, db: string) {
  const { rows } = await stats.query<{ statements: string; tx: string; pids: number[] }>(
    `select (select coalesce(sum(calls), 0) from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = $1)::text as statements,
            (select xact_commit + xact_rollback from pg_stat_database where datname = $1)::text as tx,
            (select coalesce(array_agg(pid), '{}') from pg_stat_activity where datname = $1) as pids`,
    [db],
  )
  const { statements, tx, pids } = rows[0]!
  return { statements: Number(statements), tx: Number(tx), pids }
}

/** CPU time (ms) of a process so far; undefined once it is gone. */
function cpuMs(pid: number): number | undefined {
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS
  } catch {
    return undefined
  }
}

/**
 * The server processes' CPU over a window, read every 250 ms: each process from its value at the window's
 * start (or 0, born within it) to the last value read, so one that exits (a pool's connection closing)
 * keeps what it spent. One born and gone between two reads is missed.
 */
class CpuTally {
  private readonly spent = new Map<number, { from: number; to: number }>()

  constructor(pids: number[]) {
    this.note(pids, false)
  }

  note(pids: number[], born = true): void {
    for (const pid of pids) {
      const ms = cpuMs(pid)
      if (ms === undefined) continue
      const seen = this.spent.get(pid)
      if (seen) seen.to = ms
      else this.spent.set(pid, { from: born ? 0 : ms, to: ms })
    }
  }

  get ms(): number {
    let sum = 0
    for (const { from, to } of this.spent.values()) sum += to - from
    return sum
  }
}

/** Statements, transactions, server CPU and the most connections over `run`. */
async function window(stats: pg.Client, db: string, run: () => Promise<void>) {
  const before = await load(stats, db)
  const cpu = new CpuTally(before.pids)
  let peakConnections = before.pids.length
  const sampling = setInterval(() => {
    load(stats, db).then(
      (l) => {
        peakConnections = Math.max(peakConnections, l.pids.length)
        cpu.note(l.pids)
      },
      () => {},
    )
  }, 250)
  const started = performance.now()
  await run().finally(() => clearInterval(sampling))
  const ms = performance.now() - started
  const end = await load(stats, db)
  cpu.note(end.pids)
  const statements = end.statements - before.statements
  await sleep(STATS_SETTLE_MS)
  const after = await load(stats, db)
  const tx = after.tx - before.tx
  return { ms, statements, tx, cpuMs: cpu.ms, settleMs: STATS_SETTLE_MS, peakConnections }
}

/** `n` workers of `-c 1`; the last line of each one that exits with an error (e.g. refused by the server). */
function startWorkers(url: string, n: number) {
  const fleet = Array.from({ length: n }, () => startWorker(url, ['-c', '1']))
  const failures: string[] = []
  for (const w of fleet) w.exited.catch((error: Error) => failures.push(error.message.split('\n').pop()!))
  return {
    failures,
    async stop() {
      for (const w of fleet) w.stop()
      await Promise.all(fleet.map((w) => w.exited.catch(() => {})))
    },
  }
}

async function measure(cluster: PgCluster, workers: number, stats: pg.Client): Promise<Figures> {
  const db = `sq_scale_${workers}`
  await stats.query(`create database ${db}`)
  const url = cluster.url(db)
  const setup = await openQueue({ db: url, root: scratch() })
  await setup.close() // the schema exists before the workers start; the bench holds no connection meanwhile
  const fleet = startWorkers(url, workers)
  try {
    // Those the server refuses a connection keep trying (their log says why): count who got in.
    const probe = await pgClient(url)
    const registeredCount = async () =>
      Number((await probe.query<{ n: string }>('select count(*) as n from sq_workers')).rows[0]!.n)
    const all = async () => fleet.failures.length > 0 || (await registeredCount()) >= workers
    await waitUntil(all, `${workers} workers to register`, REGISTER_MS, 500).catch(() => {})
    const registered = await registeredCount().finally(() => probe.end())
    // Start-up done (each worker registered, rescued, and is idle) and its transactions reported.
    await sleep(STATS_SETTLE_MS)
    const idle = await window(stats, db, () => sleep(IDLE_MS))
    const connections = (await load(stats, db)).pids.length
    const idleTxPerMs = idle.tx / (idle.ms + idle.settleMs)
    const idleStatementsPerMs = idle.statements / idle.ms
    const idleCpuPerMs = idle.cpuMs / idle.ms

    const q = await openQueue({ db: url, root: scratch() })
    const ids: string[] = []
    let own = 0
    const trickle = await window(stats, db, async () => {
      for (let i = 0; i < TASKS; i++) {
        const at = performance.now()
        ids.push((await q.enqueue({ task: 'tasks#noop' })).id)
        await sleep(Math.max(0, GAP_MS - (performance.now() - at)))
      }
      const done = async () => {
        own++
        return (await q.list({ statuses: ['queued', 'progress'], limit: 1 })).length === 0
      }
      await waitUntil(done, `${workers} workers to run ${TASKS} tasks`, 120_000, 250)
    })
    const tasks = await Promise.all(ids.map((id) => q.get(id)))
    await q.close()
    const beyondIdle = (x: number, perMs: number) => x - perMs * (trickle.ms + trickle.settleMs)
    return {
      workers,
      registered,
      refused: fleet.failures.length,
      refusal: fleet.failures[0],
      connections,
      idleStatementsPerWorkerS: (idleStatementsPerMs * 1000) / workers,
      idleTxPerWorkerS: (idleTxPerMs * 1000) / workers,
      idleCpuPerWorkerPct: (idleCpuPerMs * 100) / workers,
      // The bench's own reads (its polls for the end) are not the tasks' cost; its enqueues are.
      statementsPerTask: (trickle.statements - idleStatementsPerMs * trickle.ms - own) / TASKS,
      txPerTask: (beyondIdle(trickle.tx, idleTxPerMs) - own) / TASKS,
      peakConnections: trickle.peakConnections,
      cpuMsPerTask: (trickle.cpuMs - idleCpuPerMs * trickle.ms) / TASKS,
      pickups: tasks.map((t) => Date.parse(t.started!) - Date.parse(t.created)).sort((a, b) => a - b),
    }
  } finally {
    await fleet.stop()
    await stats.query(`drop database ${db} with (force)`)
  }
}

function report(all: Figures[]): string {
  const rows = all.map((f) => [
    String(f.workers),
    f.registered === f.workers ? 'all' : String(f.registered),
    `${f.connections} / ${f.peakConnections}`,
    f.idleStatementsPerWorkerS.toFixed(2),
    f.idleTxPerWorkerS.toFixed(2),
    f.idleCpuPerWorkerPct.toFixed(2),
    f.statementsPerTask.toFixed(1),
    f.txPerTask.toFixed(1),
    f.cpuMsPerTask.toFixed(2),
    num(percentile(f.pickups, 50)),
    num(percentile(f.pickups, 99)),
  ])
  const head = [
    'workers (c=1)',
    'registered',
    'connections idle / peak',
    'idle statements/s per worker',
    'idle tx/s per worker',
    'idle db CPU % per worker',
    'statements per task',
    'tx per task',
    'db CPU ms per task',
    'pickup p50 ms',
    'pickup p99 ms',
  ]
  const refusals = all.filter((f) => f.refusal).map((f) => `  ${f.workers} workers, one exited: ${f.refusal}`)
  return [
    `sq on one PostgreSQL: idle for ${IDLE_MS / 1000} s, then ${TASKS} no-op tasks enqueued ${GAP_MS} ms apart`,
    table(head, rows, ['right']),
    ...refusals,
  ].join('\n')
}

async function main(): Promise<void> {
  const cluster = await PgCluster.create('sqscale', [
    'fsync=on',
    'full_page_writes=on',
    'shared_buffers=128MB',
    'shared_preload_libraries=pg_stat_statements',
  ])
  const all: Figures[] = []
  try {
    const stats = await pgClient(cluster.url())
    await stats.query('create extension if not exists pg_stat_statements')
    try {
      for (const workers of SIZES) {
        process.stderr.write(`scale: ${workers} worker(s)…\n`)
        const f = await measure(cluster, workers, stats)
        const pickup = `pickup p50 ${num(percentile(f.pickups, 50))} ms`
        process.stderr.write(
          `  idle ${f.idleStatementsPerWorkerS.toFixed(2)} statements/s per worker, ${f.statementsPerTask.toFixed(1)} statements per task, ${pickup}\n`,
        )
        all.push(f)
      }
    } finally {
      await stats.end()
    }
  } finally {
    await cluster.drop()
  }
  process.stdout.write(`${report(all)}\n`)
  if (IO) {
    process.stderr.write('scale: I/O-bound tasks…\n')
    process.stdout.write(`\n1,000 tasks of await sleep(1000) at c=1,000\n${ioBoundTable(await ioBound())}\n`)
  }
  if (BASELINE) {
    process.stderr.write(`scale: no-op throughput beside ${BASELINE}…\n`)
    const rows = await noopBaseline(BASELINE)
    process.stdout.write(
      `\nNo-op tasks/s at c=4, one task per process, beside ${BASELINE}\n${noopBaselineTable(BASELINE, rows)}\n`,
    )
  }
  if (BACKLOG > 0) printBacklog(await backlog({ queued: BACKLOG, ended: BACKLOG, kinds: ['postgres'] }))
}

await main()
