/**
 * sq over a big backlog: `queued` tasks waiting (two queues) and `ended` ones (completed/failed over the last
 * 30 days), seeded in one SQL statement each. Times, per database:
 * - a claim (p50 of single-queue and two-queue claims of one task, through the storage layer) and its plan;
 * - the reads of `sq stats`, `sq list`, one `sq top` refresh and each dashboard request: wall time of the
 *   library call against the local server, which is the database's time plus a few localhost round trips
 *   (no CLI start-up); median of a few runs, each with nothing cached (as a fresh CLI process has);
 * - an open dashboard: one simulated tab polling /api/overview and /api/throughput every second for 10 s
 *   through one shared read model (as `sq serve` has), the database's CPU as a share of one core — on
 *   PostgreSQL the CPU of the serving connections' backends (/proc), on SQLite this process's own;
 * - `sq purge --older-than 0s` of the ended tasks: a running worker's claims/s during the purge against
 *   before it, and the purge's deletions/s meanwhile (with --whole-purge also its time and count).
 *
 *   node --import tsx bench/backlog.ts [--queued 1000000] [--ended 1000000] [--only sqlite|postgres] [--whole-purge]
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { Activity } from '../src/activity.js'
import { createStatusServer } from '../src/http/status-server.js'
import { openQueue, type Queue } from '../src/index.js'
import { snapshot } from '../src/monitor.js'
import { queueStats } from '../src/queue/stats.js'
import { overview, throughputSeries } from '../src/http/api.js'
import { claimTasks } from '../src/storage/run-repository.js'
import { listTasks } from '../src/storage/task-repository.js'
import { explainingDialect } from '../test/helpers/explain.js'
import { cleanup, createPgDatabase, pgClient, pgUrl, scratch, sqliteFile } from './env.js'
import { sleep } from './process.js'
import { seedBacklog } from './backlog-seed.js'
import { BIN, type Kind, startWorker } from './sq.js'

export interface BacklogOptions {
  queued: number
  ended: number
  /** Wait for the purge to delete every ended task (a million: minutes), not only its first 11 s. */
  wholePurge?: boolean
  kinds?: Kind[]
}

export interface BacklogFigures {
  kind: Kind
  queued: number
  ended: number
  seedMs: number
  /** `commit`: the baseline, p50 of a one-row insert committed alone (the disk's flush, on a busy host most of a claim). */
  claimP50Ms: { single: number; multi: number; commit: number }
  claimPlan: { single: string[]; multi: string[] }
  /** Median ms of each read, nothing cached. */
  readMs: Record<string, number>
  /** Database CPU of one open dashboard tab, % of one core. */
  dashboardCpuPercent: number
  /** `deleted` and `ms` of the whole purge: null when it was stopped after its measured window. */
  purge: {
    deleted: number | null
    ms: number | null
    deletedPerSecond: number
    workerRateBefore: number
    workerRateDuring: number
    slowdownPercent: number
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now()
  await fn()
  return performance.now() - start
}

/** P50 of a one-row insert committed alone: what any durable write costs here, a claim included. */
async function commitP50(q: Queue, n: number): Promise<number> {
  await q.backend.query('create table "bench_commit" ("n" integer)', [])
  const times: number[] = []
  for (let i = 0; i < n; i++)
    times.push(await timed(() => q.backend.query('insert into "bench_commit" values (1)', [])))
  await q.backend.query('drop table "bench_commit"', [])
  return median(times)
}

/** P50 of claims of one task, on the connection a worker keeps open: listening keeps it open, as a worker's does. */
async function claimP50(q: Queue, queues: string[], n: number): Promise<number> {
  const unlisten = await q.backend.listen('sq_queued', () => {})
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const o = { workerId: 'bench', workerName: 'bench:1', pid: 1, queues, limit: 1 }
    times.push(await timed(() => claimTasks(q.backend, o)))
  }
  await unlisten()
  return median(times)
}

async function claimPlanOf(q: Queue, url: string, queues: string[]): Promise<string[]> {
  const e = await explainingDialect({ url } as Parameters<typeof explainingDialect>[0], q.backend)
  try {
    await claimTasks(e.logged, { workerId: 'bench', workerName: 'bench:1', pid: 1, queues, limit: 1 })
    return (await e.plans()).find((p) => /^\s*with/i.test(p.query))?.plan ?? []
  } finally {
    await e.close()
  }
}

async function reads(q: Queue): Promise<Record<string, number>> {
  const fresh = () => new Activity(q.backend, { heartbeatTimeout: q.settings.heartbeatTimeout })
  const api = () => ({ queue: q, allowActions: false, activity: fresh() })
  const cases: Record<string, () => Promise<unknown>> = {
    'sq stats': () => queueStats(q.backend, q.settings.heartbeatTimeout),
    'sq list --limit 50': () => listTasks(q.backend, { limit: 50 }),
    'sq top refresh': () => snapshot(fresh()),
    '/api/overview': () => overview(api()),
    '/api/throughput': () => throughputSeries(api(), new URL('http://x/api/throughput')),
  }
  const out: Record<string, number> = {}
  for (const [name, fn] of Object.entries(cases)) {
    await fn()
    out[name] = median([await timed(fn), await timed(fn), await timed(fn), await timed(fn), await timed(fn)])
  }
  return out
}

/** CPU seconds (user + system) of these processes so far; a process gone counts 0. */
function cpuSeconds(pids: number[]): number {
  let ticks = 0
  for (const pid of pids) {
    try {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {}
  }
  return ticks / 100
}

async function dashboardCpu(q: Queue, kind: Kind, url: string): Promise<number> {
  const server = createStatusServer(q, { host: '127.0.0.1' })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const poll = () => Promise.all(['/api/overview', '/api/throughput'].map((p) => fetch(base + p).then((r) => r.text())))
  try {
    await poll()
    const client = kind === 'postgres' ? await pgClient(url) : null
    const backends = async () =>
      client
        ? (
            await client.query<{ pid: number }>(
              'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
            )
          ).rows.map((r) => r.pid)
        : []
    const pids = await backends()
    const cpu = () => (client ? cpuSeconds(pids) : process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6)
    const before = cpu()
    const start = performance.now()
    for (let i = 0; i < 10; i++) await Promise.all([poll(), sleep(1000)])
    const used = cpu() - before
    await client?.end()
    return (used / ((performance.now() - start) / 1000)) * 100
  } finally {
    server.close()
  }
}

/** Tasks matching `where` (its one parameter `value`), counted exactly. */
async function countWhere(q: Queue, where: (p: string) => string, value: string): Promise<number> {
  const sql = `select count(*) as n from "sq_tasks" where ${where(q.backend.spelling.param(1))}`
  return Number((await q.backend.query<{ n: number | string }>(sql, [value]))[0]!.n)
}
const queuedIn = (q: Queue, queue: string) => countWhere(q, (p) => `"status" = 'queued' and "queue" = ${p}`, queue)
const endedBefore = (q: Queue, cutoff: string) =>
  countWhere(q, (p) => `"status" in ('completed', 'failed') and "modified" < ${p}`, cutoff)

/** Claims/s of a running worker over `ms`. */
async function claimRate(q: Queue, ms: number): Promise<number> {
  const before = await queuedIn(q, 'default')
  const start = performance.now()
  await sleep(ms)
  return ((before - (await queuedIn(q, 'default'))) / (performance.now() - start)) * 1000
}

/**
 * A worker's claims/s for 10 s, then for 10 s while `sq purge --older-than 0s` runs, and the purge's deletions/s
 * meanwhile; the purge is then stopped (SIGTERM) unless `whole`, when it is waited for and its count kept.
 */
async function purgeEffect(q: Queue, url: string, whole: boolean): Promise<BacklogFigures['purge']> {
  const worker = startWorker(url, ['--queue', 'default', '--concurrency', '4', '--quiet'])
  try {
    await sleep(3000)
    const workerRateBefore = await claimRate(q, 10_000)
    const cutoff = new Date().toISOString()
    const start = performance.now()
    const child = spawn(process.execPath, [BIN, 'purge', '--db', url, '--older-than', '0s', '--json'], {
      cwd: scratch(),
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    const exited = once(child, 'exit')
    await sleep(1000)
    const left = await endedBefore(q, cutoff)
    const windowStart = performance.now()
    const workerRateDuring = await claimRate(q, 10_000)
    const deletedPerSecond = ((left - (await endedBefore(q, cutoff))) / (performance.now() - windowStart)) * 1000
    if (!whole) child.kill('SIGTERM')
    const [code, signal] = await exited
    if (whole && code !== 0) throw new Error(`sq purge exited ${code ?? signal}`)
    const deleted = whole ? (JSON.parse(out) as { deleted: number }).deleted : null
    const ms = whole ? performance.now() - start : null
    const slowdownPercent = (1 - workerRateDuring / workerRateBefore) * 100
    return { deleted, ms, deletedPerSecond, workerRateBefore, workerRateDuring, slowdownPercent }
  } finally {
    worker.stop()
    await worker.exited.catch(() => {})
  }
}

export async function backlog(o: BacklogOptions): Promise<BacklogFigures[]> {
  const figures: BacklogFigures[] = []
  try {
    for (const kind of o.kinds ?? (['postgres', 'sqlite'] as Kind[])) {
      const url = kind === 'sqlite' ? sqliteFile(`backlog${figures.length}`) : pgUrl(await createPgDatabase('backlog'))
      const q = await openQueue({ db: url, root: scratch() })
      try {
        // Each figure to stderr as it comes: a 1M run takes minutes.
        const got = <T>(what: string, value: T) => {
          console.error(`${kind} ${what}: ${JSON.stringify(value)}`)
          return value
        }
        const seedMs = got('seed ms', await timed(() => seedBacklog(q, kind, o.queued, o.ended)))
        const claimP50Ms = got('claim p50 ms', {
          single: await claimP50(q, ['default'], 200),
          multi: await claimP50(q, ['default', 'other'], 200),
          commit: await commitP50(q, 200),
        })
        const claimPlan = {
          single: await claimPlanOf(q, url, ['default']),
          multi: await claimPlanOf(q, url, ['default', 'other']),
        }
        got('claim plan', claimPlan)
        const readMs = got('read ms', await reads(q))
        const dashboardCpuPercent = got('dashboard % of a core', await dashboardCpu(q, kind, url))
        const purge = got('purge', await purgeEffect(q, url, o.wholePurge ?? false))
        figures.push({
          kind,
          queued: o.queued,
          ended: o.ended,
          seedMs,
          claimP50Ms,
          claimPlan,
          readMs,
          dashboardCpuPercent,
          purge,
        })
      } finally {
        await q.close()
      }
    }
  } finally {
    await cleanup()
  }
  return figures
}

export function printBacklog(figures: BacklogFigures[]): void {
  const round = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(0))
  for (const f of figures) {
    console.log(`\n${f.kind}: ${f.queued} queued + ${f.ended} ended (seeded in ${round(f.seedMs / 1000)} s)`)
    console.log(
      `  claim p50              ${round(f.claimP50Ms.single)} ms one queue, ${round(f.claimP50Ms.multi)} ms two queues (a lone commit: ${round(f.claimP50Ms.commit)} ms)`,
    )
    for (const [name, ms] of Object.entries(f.readMs)) console.log(`  ${name.padEnd(22)} ${round(ms)} ms`)
    console.log(`  dashboard tab (1/s)    ${round(f.dashboardCpuPercent)} % of a core`)
    const p = f.purge
    console.log(
      `  purge                  ${round(p.deletedPerSecond)} deleted/s${p.ms === null ? '' : `, ${p.deleted} in ${round(p.ms / 1000)} s`}; worker ${round(p.workerRateBefore)} claims/s before, ${round(p.workerRateDuring)}/s during (${round(p.slowdownPercent)} % slower)`,
    )
    console.log(`  claim plan, one queue:\n    ${f.claimPlan.single.join('\n    ')}`)
    console.log(`  claim plan, two queues:\n    ${f.claimPlan.multi.join('\n    ')}`)
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`)
    return i >= 0 ? process.argv[i + 1]! : fallback
  }
  const only = arg('only', '')
  const kinds = only ? [only as Kind] : undefined
  const wholePurge = process.argv.includes('--whole-purge')
  printBacklog(
    await backlog({
      queued: Number(arg('queued', '1000000')),
      ended: Number(arg('ended', '1000000')),
      kinds,
      wholePurge,
    }),
  )
}
