/**
 * pg-boss, as its docs set it up for throughput: c `work()` loops on the queue, each fetching a batch
 * (BENCH_PGBOSS_BATCH, default 100) and polling every 0.5 s, its minimum. A loop that has finished a
 * batch waits out the rest of its interval, so one loop runs at most batch / 0.5 s jobs/s. Jobs are
 * sent with `insert` in bulk before the worker starts; its job rows keep created_on, started_on and
 * completed_on.
 */
import { createRequire } from 'node:module'
import PgBoss from 'pg-boss'
import { createPgDatabase, dropPgDatabase, pgClient, pgUrl } from '../env.js'
import type { IdleTarget } from '../idle.js'
import { onceOk, runFor, steadyRate, waitUntil } from '../process.js'
import { startHost, type Host } from './launch.js'
import type { HostConfig, Peer, Served } from './peer.js'

const VERSION = (createRequire(import.meta.url)('pg-boss/package.json') as { version: string }).version
const BATCH = Number(process.env.BENCH_PGBOSS_BATCH ?? 100)
const POLL_SECONDS = 0.5
const QUEUE = 'noop'

/** A database with pg-boss's schema and the queue, installed once and copied for each run. */
const installed = onceOk(async () => {
  const name = await createPgDatabase('pgboss_tpl')
  const boss = new PgBoss({ connectionString: pgUrl(name), supervise: false, schedule: false })
  boss.on('error', () => {})
  await boss.start()
  await boss.createQueue(QUEUE)
  await boss.stop({ graceful: false, wait: true })
  return name
})

/** The bench's side of one database: sending jobs and reading their rows. */
async function client(url: string) {
  const boss = new PgBoss({ connectionString: url, supervise: false, schedule: false, migrate: false, max: 2 })
  boss.on('error', () => {})
  await boss.start()
  const sql = await pgClient(url)
  const COUNT = `SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'completed'`
  const completed = async () => (await sql.query<{ n: number }>(COUNT, [QUEUE])).rows[0]!.n
  return {
    send: (n: number) => boss.insert(Array.from({ length: n }, () => ({ name: QUEUE, data: {} }))),
    completed,
    waitCompleted: (n: number, everyMs = 20, timeoutMs = 600_000) =>
      waitUntil(async () => (await completed()) >= n, 'pg-boss to run its jobs', timeoutMs, everyMs),
    /** Steady jobs/s of the completed jobs, from their started_on and completed_on. */
    async rate(): Promise<number> {
      const { rows } = await sql.query<{ start: Date; end: Date }>(
        `SELECT started_on AS start, completed_on AS end FROM pgboss.job WHERE name = $1 AND state = 'completed'`,
        [QUEUE],
      )
      return steadyRate(rows.map((row) => [row.start.getTime(), row.end.getTime()]))
    },
    async latest(): Promise<number> {
      const row = (
        await sql.query<{ ms: number }>(
          `SELECT (extract(epoch FROM started_on - created_on) * 1000)::float8 AS ms
           FROM pgboss.job WHERE name = $1 AND state = 'completed' ORDER BY completed_on DESC LIMIT 1`,
          [QUEUE],
        )
      ).rows[0]!
      return row.ms
    },
    async close() {
      await sql.end()
      await boss.stop({ graceful: false, wait: true })
    },
  }
}

export const pgBoss: Peer = {
  id: 'pg-boss',
  label: `pg-boss ${VERSION}`,
  versus: 'postgres',
  method:
    `c work() loops, batchSize ${BATCH}, pollingIntervalSeconds ${POLL_SECONDS} ` +
    `(at most ${BATCH / POLL_SECONDS} jobs/s per loop); jobs sent with insert()`,
  maxPickupSamples: 20,
  unavailable: async () => undefined,

  async throughput(c, n, runMs) {
    const db = await createPgDatabase('pgboss', await installed())
    const jobs = await client(pgUrl(db))
    try {
      await jobs.send(n)
      const host = await startHost('pg-boss', c, { url: pgUrl(db), batchSize: BATCH })
      try {
        await runFor(jobs.completed, n, runMs, 'pg-boss')
      } finally {
        await host.stop()
      }
      return await jobs.rate()
    } finally {
      await jobs.close()
      await dropPgDatabase(db)
    }
  },

  idle(): IdleTarget {
    let db = ''
    let host: Host | undefined
    let jobs: Awaited<ReturnType<typeof client>> | undefined
    let done = 0
    return {
      async start(c) {
        db = await createPgDatabase('pgboss_idle', await installed())
        jobs = await client(pgUrl(db))
        host = await startHost('pg-boss', c, { url: pgUrl(db), batchSize: BATCH })
        return host.pid
      },
      async pickup() {
        await jobs!.send(1)
        await jobs!.waitCompleted(++done, 5, 60_000)
        return jobs!.latest()
      },
      async load(n) {
        await jobs!.send(n)
        await jobs!.waitCompleted((done += n))
      },
      async stop() {
        await host?.stop()
        await jobs?.close()
        if (db) await dropPgDatabase(db)
      },
    }
  },
}

/** In the host: pg-boss with its defaults, and c work() loops on the queue. */
export async function servePgBoss(config: HostConfig, concurrency: number): Promise<Served> {
  const boss = new PgBoss({ connectionString: config.url! })
  boss.on('error', (error) => console.error(error))
  await boss.start()
  for (let i = 0; i < concurrency; i++) {
    await boss.work(QUEUE, { batchSize: config.batchSize!, pollingIntervalSeconds: POLL_SECONDS }, async () => {})
  }
  return { stop: () => boss.stop({ graceful: true, wait: true }) }
}
