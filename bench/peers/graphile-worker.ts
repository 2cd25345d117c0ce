/**
 * graphile-worker, as its users run it: `run()` with a task list, concurrency c, its default polling
 * (new jobs arrive by LISTEN/NOTIFY). Jobs are added in bulk with `graphile_worker.add_jobs` before
 * the worker starts. It deletes a job once done, so the host keeps each job's start and end (its
 * `job:start` and `job:complete` events, the latter once the result is written) and, for pickup, the
 * latest job's creation → start.
 */
import { createRequire } from 'node:module'
import { Logger, run, runMigrations } from 'graphile-worker'
import type pg from 'pg'
import { createPgDatabase, dropPgDatabase, pgClient, pgUrl } from '../env.js'
import type { IdleTarget } from '../idle.js'
import { onceOk, runFor, steadyRate, waitUntil, type Span } from '../process.js'
import { startHost, type Host } from './launch.js'
import type { HostConfig, HostReport, Peer, Served } from './peer.js'

const VERSION = (createRequire(import.meta.url)('graphile-worker/package.json') as { version: string }).version
const ADD_NOOPS = `SELECT count(*) FROM graphile_worker.add_jobs(ARRAY(
  SELECT ROW('noop', '{}'::json, NULL, NULL, NULL, NULL, NULL, NULL)::graphile_worker.job_spec
  FROM generate_series(1, $1::int)))`

/** A database with graphile-worker's schema, migrated once and copied for each run. */
const migrated = onceOk(async () => {
  const name = await createPgDatabase('graphile_tpl')
  await runMigrations({ connectionString: pgUrl(name), logger: new Logger(() => () => {}) })
  return name
})

async function addNoops(url: string, n: number): Promise<void> {
  const client = await pgClient(url)
  try {
    await client.query(ADD_NOOPS, [n])
  } finally {
    await client.end()
  }
}

/** Waits until the host has seen `count` jobs complete in all; its report then. */
async function completed(host: Host, count: number, everyMs = 20, timeoutMs = 600_000): Promise<HostReport> {
  let report = await host.report()
  const done = async () => (report = await host.report()).completed >= count
  await waitUntil(done, 'graphile-worker to run its jobs', timeoutMs, everyMs)
  return report
}

export const graphileWorker: Peer = {
  id: 'graphile-worker',
  label: `graphile-worker ${VERSION}`,
  versus: 'postgres',
  method: 'run() with a no-op task list and concurrency c; jobs added with add_jobs before it starts',
  unavailable: async () => undefined,

  async throughput(c, n, runMs) {
    const db = await createPgDatabase('graphile', await migrated())
    try {
      await addNoops(pgUrl(db), n)
      const host = await startHost('graphile-worker', c, { url: pgUrl(db) })
      try {
        await runFor(async () => (await host.report()).completed, n, runMs, 'graphile-worker')
        return steadyRate((await host.report(true)).jobs!)
      } finally {
        await host.stop()
      }
    } finally {
      await dropPgDatabase(db)
    }
  },

  idle(): IdleTarget {
    let db = ''
    let host: Host | undefined
    let client: pg.Client | undefined
    let done = 0
    return {
      async start(c) {
        db = await createPgDatabase('graphile_idle', await migrated())
        client = await pgClient(pgUrl(db))
        host = await startHost('graphile-worker', c, { url: pgUrl(db) })
        return host.pid
      },
      async pickup() {
        await client!.query(ADD_NOOPS, [1])
        const r = await completed(host!, ++done, 5, 60_000)
        return r.lastPickup!
      },
      async load(n) {
        await client!.query(ADD_NOOPS, [n])
        await completed(host!, (done += n))
      },
      async stop() {
        await host?.stop()
        await client?.end()
        if (db) await dropPgDatabase(db)
      },
    }
  },
}

/** In the host: the worker, and the timings its events give. */
export async function serveGraphileWorker(config: HostConfig, concurrency: number): Promise<Served> {
  const runner = await run({
    connectionString: config.url!,
    concurrency,
    noHandleSignals: true,
    taskList: { noop: async () => {} },
  })
  const started = new Map<string, number>()
  const jobs: Span[] = []
  let lastPickup: number | null = null
  runner.events.on('job:start', ({ job }) => {
    const now = Date.now()
    started.set(job.id, now)
    lastPickup = now - new Date(job.created_at).getTime()
  })
  runner.events.on('job:complete', ({ job }) => {
    jobs.push([started.get(job.id)!, Date.now()])
    started.delete(job.id)
  })
  return {
    report: (withJobs) => ({ completed: jobs.length, lastPickup, ...(withJobs ? { jobs } : {}) }),
    stop: () => runner.stop(),
  }
}
