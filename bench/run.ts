/**
 * sq's benchmarks: `npm run bench`. On one machine, in one run, on the same PostgreSQL server, it
 * measures sq beside its peers — graphile-worker and pg-boss on PostgreSQL, BullMQ with a sandboxed
 * processor on Redis — and beside each database's raw claim+complete floor, and prints each sq figure
 * with its ratio to them: the machine is shared and noisy, so the ratios are what carries over.
 *
 * - no-op tasks/s at concurrency 1/4/8, steady state from each system's own records: each run has
 *   BENCH_TASKS queued (default 5,000) and stops when they are done or BENCH_RUN_S seconds (default 5)
 *   after its first completed job; medians of BENCH_ROUNDS interleaved rounds (default 3; fewer when
 *   the next round would overrun BENCH_BUDGET_S, default 540);
 * - pickup p50/p99 of an idle worker (BENCH_PICKUPS samples, default 60), and the worker process's
 *   memory idle and after BENCH_RSS_TASKS tasks (default 10,000), for sq and each peer at c=4;
 * - sq's generator linearity (3,000 / 30,000 / 300,000 yields); then the enqueue side (bench/enqueue.ts):
 *   one-shot start-up of each hot command, bulk and single enqueue, each beside its baseline.
 *
 * Progress goes to stderr as it happens; the tables to stdout at the end.
 */
import os from 'node:os'
import { cleanup, ensureRedis, isConnectionError, postgresVersion } from './env.js'
import { postgresFloor, sqliteFloor } from './floors.js'
import { measureIdle, type IdleFigures, type IdleTarget } from './idle.js'
import { sleep } from './process.js'
import { bullmq } from './peers/bullmq.js'
import { graphileWorker } from './peers/graphile-worker.js'
import type { Peer } from './peers/peer.js'
import { pgBoss } from './peers/pg-boss.js'
import { generatorMs, sqIdle, sqThroughput, type Kind } from './sq.js'
import { mb } from './report.js'
import { printReport, type Results } from './summary.js'
import { enqueueReport, measureEnqueue, SECTIONS } from './enqueue.js'

const N = Number(process.env.BENCH_TASKS ?? 5000)
const RUN_MS = Number(process.env.BENCH_RUN_S ?? 5) * 1000
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const BUDGET_MS = Number(process.env.BENCH_BUDGET_S ?? 540) * 1000
const PICKUPS = Number(process.env.BENCH_PICKUPS ?? 60)
const RSS_TASKS = Number(process.env.BENCH_RSS_TASKS ?? 10_000)
const CONCURRENCIES = [1, 4, 8]
const IDLE_CONCURRENCY = 4
const PG_FLOOR_CLIENTS = 8
const YIELDS = [3000, 30_000, 300_000]
const KINDS: Kind[] = ['sqlite', 'postgres']

const began = Date.now()
const load = () => os.loadavg()[0]!.toFixed(1)
const progress = (line: string) => {
  const seconds = String(Math.round((Date.now() - began) / 1000)).padStart(4)
  process.stderr.write(`[${seconds}s] ${line}\n`)
}

/** Rows whose server or peer is missing: not tried at all (a failed run is, in the next round). */
const unavailable = new Set<string>()

/** A row of the throughput table: measured at each c, or once per round (a floor). */
interface Contender {
  key: string
  measure(c: number): Promise<number>
  perConcurrency: boolean
}

/**
 * Runs one measurement. A lost PostgreSQL connection (the server may be restarted under the bench) is
 * tried again after a pause; any other failure is recorded against its row (printed where it has no
 * figure), and the bench goes on.
 */
async function attempt<T>(results: Results, key: string, what: string, fn: () => Promise<T>): Promise<T | undefined> {
  if (unavailable.has(key)) return undefined
  for (let tries = 1; ; tries++) {
    try {
      return await fn()
    } catch (error) {
      const message = (error as Error).message.split('\n')[0]!
      if (tries < 3 && isConnectionError(error)) {
        progress(`${what}: PostgreSQL connection lost (${message}); again in 5 s`)
        await sleep(5000)
        continue
      }
      results.failures.set(key, message)
      progress(`${what}: could not run: ${message}`)
      return undefined
    }
  }
}

async function throughputRound(results: Results, contenders: Contender[], round: number): Promise<void> {
  for (const c of CONCURRENCIES) {
    for (const x of contenders) {
      if (!x.perConcurrency && c !== CONCURRENCIES[0]) continue
      const tps = await attempt(results, x.key, `${x.key} c=${c}`, () => x.measure(c))
      if (tps === undefined) continue
      const column = x.perConcurrency ? c : 0
      const cells = results.throughput.get(x.key) ?? new Map<number, number[]>()
      cells.set(column, [...(cells.get(column) ?? []), tps])
      results.throughput.set(x.key, cells)
      progress(`round ${round}  ${x.key}${x.perConcurrency ? ` c=${c}` : ''}: ${Math.round(tps)} tasks/s`)
    }
  }
}

/** `target` makes a fresh idle target for each try. */
async function idleRun(results: Results, key: string, target: () => IdleTarget, samples: number): Promise<void> {
  const figures: IdleFigures | undefined = await attempt(results, `idle:${key}`, `${key} idle`, () =>
    measureIdle(target(), { concurrency: IDLE_CONCURRENCY, samples, load: RSS_TASKS }),
  )
  if (!figures) return
  results.idle.set(key, figures)
  const p50 = Math.round(figures.pickups[Math.floor(figures.pickups.length / 2)] ?? NaN)
  progress(`${key}: pickup p50 ${p50} ms, RSS ${mb(figures.idleRssMb)} idle, ${mb(figures.loadedRssMb)} after the load`)
}

function newResults(): Results {
  return {
    tasks: N,
    runS: RUN_MS / 1000,
    rounds: 0,
    roundsWanted: ROUNDS,
    rssTasks: RSS_TASKS,
    idleConcurrency: IDLE_CONCURRENCY,
    pgFloorClients: PG_FLOOR_CLIENTS,
    concurrencies: CONCURRENCIES,
    peers: [bullmq, graphileWorker, pgBoss],
    throughput: new Map(),
    idle: new Map(),
    failures: new Map(),
    generator: new Map(),
    yields: YIELDS,
    machine: `${os.cpus().length} cores, node ${process.version}, load average ${load()} at the start`,
    versions: [],
  }
}

/** The servers' versions; what cannot run without them is marked failed up front. */
async function checkServices(results: Results): Promise<void> {
  const pg = await postgresVersion().catch((error: Error) => {
    for (const key of ['sq postgres', 'floor postgres', graphileWorker.label, pgBoss.label]) {
      results.failures.set(key, error.message)
      unavailable.add(key)
    }
    return undefined
  })
  results.versions.push(pg ? `PostgreSQL ${pg}` : 'PostgreSQL not reachable')
  const redis = await ensureRedis()
  if ('unavailable' in redis) results.versions.push('Redis not available')
  else results.versions.push(`Redis ${redis.version}${redis.started ? ' (started by the bench)' : ''}`)
  for (const peer of results.peers) {
    const why = await peer.unavailable()
    if (!why) continue
    results.failures.set(peer.label, why)
    unavailable.add(peer.label)
  }
}

function contenders(results: Results): Contender[] {
  return [
    ...KINDS.map((kind) => ({
      key: `sq ${kind}`,
      perConcurrency: true,
      measure: (c: number) => sqThroughput(kind, c, N, RUN_MS),
    })),
    ...results.peers.map((peer: Peer) => ({
      key: peer.label,
      perConcurrency: true,
      measure: (c: number) => peer.throughput(c, N, RUN_MS),
    })),
    { key: 'floor sqlite', perConcurrency: false, measure: () => sqliteFloor(N, RUN_MS) },
    { key: 'floor postgres', perConcurrency: false, measure: () => postgresFloor(N, PG_FLOOR_CLIENTS, RUN_MS) },
  ]
}

async function idleSection(results: Results): Promise<void> {
  for (const kind of KINDS) await idleRun(results, `sq ${kind}`, () => sqIdle(kind), PICKUPS)
  for (const peer of results.peers) {
    if (unavailable.has(peer.label)) continue
    await idleRun(results, peer.label, () => peer.idle(), Math.min(PICKUPS, peer.maxPickupSamples ?? PICKUPS))
  }
}

async function generatorSection(results: Results): Promise<void> {
  for (const kind of KINDS) {
    const times: number[] = []
    for (const yields of YIELDS) {
      const ms = await attempt(results, `generator ${kind}`, `generator ${kind}`, () => generatorMs(kind, yields))
      if (ms !== undefined) times.push(ms)
    }
    if (times.length === YIELDS.length) results.generator.set(kind, times)
    progress(`generator ${kind}: ${times.join(' / ')} ms`)
  }
}

/**
 * One throughput round first (it also fills the templates), then the sections measured once, then
 * more rounds while the last one's duration still fits the budget.
 */
async function main(): Promise<void> {
  const results = newResults()
  await checkServices(results)
  const rows = contenders(results)
  let roundMs = 0
  const round = async () => {
    const start = Date.now()
    await throughputRound(results, rows, ++results.rounds)
    roundMs = Date.now() - start
  }
  await round()
  await idleSection(results)
  await generatorSection(results)
  // The enqueue side (issue 7): start-up, bulk and single enqueue, with their baselines (bench/enqueue.ts).
  const enqueue = await measureEnqueue(SECTIONS, progress)
  while (results.rounds < ROUNDS && Date.now() - began + roundMs <= BUDGET_MS) await round()

  results.elapsedS = (Date.now() - began) / 1000
  results.machine += `, ${load()} at the end`
  printReport(results)
  process.stdout.write(`\n${enqueueReport(enqueue)}\n`)
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: dropping the scratch databases`)
    void cleanup().finally(() => process.exit(130))
  })
}
try {
  await main()
} finally {
  await cleanup()
}
