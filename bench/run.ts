/**
 * sq's benchmarks: `npm run bench`. Prints figures and, because the machine is shared and noisy, ratios
 * against baselines measured in the same run:
 * - throughput of no-op tasks at concurrency 1/4/8 on SQLite and PostgreSQL, against the seed's model
 *   of one fresh process per task (measured here by spawning `node` per no-op task);
 * - pickup latency p50/p99 of an idle worker, against the cost of one `node -e 0` start;
 * - the time of a 3,000-, 30,000- and 300,000-yield generator: linear appends give at most ~10× per
 *   10× yields (less while fixed costs dominate); an output rewritten on every yield would give ~100×.
 * BENCH_TASKS (default 600) sets the number of no-op tasks per run.
 */
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { openQueue, type Queue } from '../src/index.js'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/run.js')
const PG_ADMIN = process.env.SQ_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const N = Number(process.env.BENCH_TASKS ?? 600)

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-bench-'))
fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}')
fs.writeFileSync(
  path.join(dir, 'tasks.js'),
  `export function noop() {}
export function now() { return String(Date.now()) }
export function* gen({ n }) { for (let i = 0; i < n; i++) yield 'line ' + i + '\\n' }
`,
)

type Db = { name: 'sqlite' | 'postgres'; url: string; drop(): Promise<void> }

async function freshDb(kind: Db['name'], tag: string): Promise<Db> {
  if (kind === 'sqlite') {
    const file = path.join(dir, `${tag}.db`)
    return { name: kind, url: file, drop: async () => fs.rmSync(file, { force: true }) }
  }
  const name = `sq_bench_${tag}_${process.pid}`
  const admin = new pg.Client({ connectionString: PG_ADMIN })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  return {
    name: kind,
    url: PG_ADMIN.replace(/\/[^/]*$/, `/${name}`),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    },
  }
}

function runWorker(url: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const child = spawn(process.execPath, [BIN, 'worker', '--db', url, ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] })
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`worker exited ${code}`))))
  })
}

async function enqueueMany(q: Queue, task: string, n: number, args: Record<string, unknown> = {}): Promise<void> {
  for (let i = 0; i < n; i++) await q.enqueue({ task, args })
}

function forkPerTaskBaseline(n: number): number {
  const start = performance.now()
  for (let i = 0; i < n; i++) spawnSync(process.execPath, ['-e', '0'])
  return (n / (performance.now() - start)) * 1000
}

/**
 * Steady-state tasks/s: from the first task's start to the last one's end, by the records' own
 * timestamps, so the worker's start-up (paid once, not per task) does not dilute the figure.
 */
async function throughput(kind: Db['name'], concurrency: number): Promise<number> {
  const db = await freshDb(kind, `tp${concurrency}`)
  const q = await openQueue({ db: db.url, root: dir })
  await enqueueMany(q, 'tasks#noop', N)
  await runWorker(db.url, ['--burst', '--concurrency', String(concurrency)])
  const tasks = await q.list({ limit: N })
  await q.close()
  await db.drop()
  if (tasks.length !== N || tasks.some((t) => t.status !== 'completed')) throw new Error('not every task completed')
  const first = Math.min(...tasks.map((t) => Date.parse(t.started!)))
  const last = Math.max(...tasks.map((t) => Date.parse(t.finished!)))
  return (N / (last - first)) * 1000
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

async function pickupLatency(kind: Db['name'], samples = 60): Promise<{ p50: number; p99: number }> {
  const db = await freshDb(kind, 'lat')
  const q = await openQueue({ db: db.url, root: dir })
  const worker = spawn(process.execPath, [BIN, 'worker', '--db', db.url], { cwd: dir, stdio: 'ignore' })
  // Warm: the first task pays for the worker's start.
  await q.follow((await q.enqueue({ task: 'tasks#now' })).id, () => {}, 5)
  const latencies: number[] = []
  for (let i = 0; i < samples; i++) {
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 30)) // let the worker go idle
    const before = Date.now()
    const { id } = await q.enqueue({ task: 'tasks#now' })
    const done = await q.follow(id, () => {}, 5)
    latencies.push(Number(done.output) - before)
  }
  worker.kill('SIGTERM')
  await new Promise((r) => worker.on('exit', r))
  await q.close()
  await db.drop()
  latencies.sort((a, b) => a - b)
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
}

/** The run's own wall time (duration_ms), so the worker's start does not blur the ratio. */
async function generatorTime(kind: Db['name'], yields: number): Promise<number> {
  const db = await freshDb(kind, `gen${yields}`)
  const q = await openQueue({ db: db.url, root: dir })
  const { id } = await q.enqueue({ task: 'tasks#gen', args: { n: yields } })
  await runWorker(db.url, ['--burst'])
  const task = await q.get(id)
  await q.close()
  await db.drop()
  if (task.status !== 'completed' || !task.output?.endsWith(`line ${yields - 1}\n`)) throw new Error(`generator task ${task.status}`)
  return task.duration_ms!
}

const fmt = (n: number, d = 0) => n.toFixed(d)

async function main(): Promise<void> {
  console.log(`sq benchmarks — ${os.cpus().length} cores, node ${process.version}, ${N} no-op tasks per run\n`)
  const startMs = (() => {
    const s = performance.now()
    for (let i = 0; i < 10; i++) spawnSync(process.execPath, ['-e', '0'])
    return (performance.now() - s) / 10
  })()
  const baseline = forkPerTaskBaseline(Math.min(N, 100))
  console.log(`baseline: node -e 0 takes ${fmt(startMs)} ms; one fresh process per task (the seed's model) runs ${fmt(baseline, 1)} tasks/s\n`)

  const oneShot = await freshDb('sqlite', 'oneshot')
  spawnSync(process.execPath, [BIN, 'list', '--db', oneShot.url], { cwd: dir }) // creates the schema
  const enqueueMs: number[] = []
  for (let i = 0; i < 9; i++) {
    const s = performance.now()
    spawnSync(process.execPath, [BIN, 'enqueue', 'tasks#noop', '--db', oneShot.url], { cwd: dir })
    enqueueMs.push(performance.now() - s)
  }
  await oneShot.drop()
  const enqueueMedian = enqueueMs.sort((a, b) => a - b)[4]!
  console.log(`one-shot \`sq enqueue\` on SQLite: ${fmt(enqueueMedian)} ms (×${fmt(enqueueMedian / startMs, 1)} node -e 0)\n`)

  console.log('no-op throughput (sq worker --burst, tasks/s from first start to last end, ×baseline)')
  for (const kind of ['sqlite', 'postgres'] as const) {
    const row: string[] = []
    for (const c of [1, 4, 8]) {
      const tps = await throughput(kind, c)
      row.push(`c=${c}: ${fmt(tps)} (×${fmt(tps / baseline, 1)})`)
    }
    console.log(`  ${kind.padEnd(8)}  ${row.join('   ')}`)
  }

  console.log('\npickup latency of an idle worker (enqueue → task running, ms; ×node start)')
  for (const kind of ['sqlite', 'postgres'] as const) {
    const { p50, p99 } = await pickupLatency(kind)
    console.log(`  ${kind.padEnd(8)}  p50 ${fmt(p50)} ms (×${fmt(p50 / startMs, 2)})   p99 ${fmt(p99)} ms (×${fmt(p99 / startMs, 2)})`)
  }

  console.log('\ngenerator output (one task; its run time, ms; appends are linear when time grows ~10× per 10× yields, at most)')
  for (const kind of ['sqlite', 'postgres'] as const) {
    const times = []
    for (const yields of [3000, 30000, 300000]) times.push(await generatorTime(kind, yields))
    console.log(`  ${kind.padEnd(8)}  3,000 yields ${fmt(times[0]!)} ms   30,000: ${fmt(times[1]!)} ms (×${fmt(times[1]! / times[0]!, 2)})   300,000: ${fmt(times[2]!)} ms (×${fmt(times[2]! / times[1]!, 2)})`)
  }
  fs.rmSync(dir, { recursive: true, force: true })
}

await main()
