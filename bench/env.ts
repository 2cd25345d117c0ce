/**
 * What every benchmark shares: the scratch directory sq runs its no-op tasks from, scratch PostgreSQL
 * databases (dropped at the end), and the Redis server BullMQ needs. Nothing here runs at import time:
 * the peer host process imports this module too.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Redis } from 'ioredis'
import pg from 'pg'

/** An admin connection to the PostgreSQL server; scratch databases are created beside it. */
export const PG_ADMIN = process.env.SQ_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const REDIS = { host: '127.0.0.1', port: 6379 }

let dir: string | undefined

/** sq's root for the benchmark: a module of no-op, clock and generator tasks. */
export function scratch(): string {
  if (dir) return dir
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-bench-'))
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}')
  fs.writeFileSync(
    path.join(dir, 'tasks.js'),
    `export function noop() {}
export function* gen({ n }) { for (let i = 0; i < n; i++) yield 'line ' + i + '\\n' }
`,
  )
  return dir
}

/** A scratch SQLite file path (not created). */
export function sqliteFile(tag: string): string {
  return path.join(scratch(), `${tag}.db`)
}

/** Copies a closed SQLite database, WAL included should one be left. */
export function copySqlite(from: string, to: string): void {
  for (const suffix of ['', '-wal']) {
    if (fs.existsSync(from + suffix)) fs.copyFileSync(from + suffix, to + suffix)
  }
}

export function removeSqlite(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true })
}

const databases = new Set<string>()
let sequence = 0

export function pgUrl(database: string): string {
  const url = new URL(PG_ADMIN)
  url.pathname = `/${database}`
  return url.toString()
}

/**
 * A connected client. A connection the server drops (PostgreSQL may be restarted under the bench)
 * makes the next query fail, and so the measurement; without this listener it would crash the bench.
 */
export async function pgClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  await client.connect()
  return client
}

/** Whether an error is a lost or refused PostgreSQL connection (worth one more try), not a bug. */
export function isConnectionError(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string }
  return (
    ['ECONNREFUSED', 'ECONNRESET', '57P01', '57P03'].includes(code ?? '') ||
    /Connection terminated|shutting down|starting up|terminating connection/i.test(message ?? '')
  )
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await pgClient(PG_ADMIN)
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/**
 * Creates a scratch database, empty or as a copy of `template` (which must have no open connection),
 * and returns its name. A copy is how a run starts from a filled queue without paying for the fill.
 */
export async function createPgDatabase(tag: string, template?: string): Promise<string> {
  const name = `sq_bench_${process.pid}_${++sequence}_${tag}`.replace(/[^a-z0-9_]/g, '_')
  databases.add(name)
  const copy = template ? ` TEMPLATE ${pg.escapeIdentifier(template)}` : ''
  await admin((c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}${copy}`))
  return name
}

export async function dropPgDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`))
  databases.delete(name)
}

/** The server's version, e.g. "15.20". */
export async function postgresVersion(): Promise<string> {
  return admin(async (c) => (await c.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v)
}

/** Drops every scratch database and removes the scratch directory. */
export async function cleanup(): Promise<void> {
  for (const name of [...databases]) await dropPgDatabase(name).catch(() => {})
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
}

async function redisVersion(): Promise<string> {
  const redis = new Redis({
    ...REDIS,
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  redis.on('error', () => {})
  try {
    await redis.connect()
    const info = await redis.info('server')
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'
  } finally {
    redis.disconnect()
  }
}

/**
 * Redis's version, starting a local server first if none answers (the command the project's machines
 * use); a reason when that fails too, so BullMQ is reported as not run instead of failing the bench.
 */
export async function ensureRedis(): Promise<{ version: string; started: boolean } | { unavailable: string }> {
  const where = `${REDIS.host}:${REDIS.port}`
  try {
    return { version: await redisVersion(), started: false }
  } catch {
    // not running: start it below
  }
  try {
    for (const d of ['/var/lib/redis', '/var/log/redis']) fs.mkdirSync(d, { recursive: true })
  } catch (error) {
    return { unavailable: `no Redis on ${where}, and cannot prepare to start one: ${(error as Error).message}` }
  }
  const started = spawnSync('redis-server', [
    ...['--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', String(REDIS.port)],
    ...['--save', '', '--appendonly', 'no', '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log'],
  ])
  if (started.error || started.status !== 0) {
    const why = started.error?.message ?? String(started.stderr).trim()
    return { unavailable: `no Redis on ${where}, and redis-server did not start: ${why}` }
  }
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100))
    try {
      return { version: await redisVersion(), started: true }
    } catch {
      // still starting
    }
  }
  return { unavailable: `redis-server was started but ${where} does not answer` }
}
