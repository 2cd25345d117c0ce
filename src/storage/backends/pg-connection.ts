import type { Pool, PoolConfig } from 'pg'
import { redactUrl } from '../../redact.js'
import { isoReader, type Backend, type Connection, type SqlSpelling } from '../backend.js'
import { pg } from './pg-driver.js'
import { keepPrecompiledPrepared } from './pg-prepared.js'

export const PG_SPELLING: SqlSpelling = {
  param: (n) => `$${n}`,
  now: 'now()',
  nowPlusSeconds: (seconds) => `now() + make_interval(secs => cast(${seconds} as double precision))`,
}

/**
 * A pool that survives its server. An idle client that loses its server emits 'error' on the pool; a
 * client checked out (mid-query) emits it on itself, where the pool listens no longer. Without
 * listeners on both, a PostgreSQL restart would crash every worker. The query in flight fails with
 * its own error, which its caller handles (retry, backoff).
 */
export function survivingPool(config: PoolConfig): Pool {
  const pool = new pg.Pool({ connectionTimeoutMillis: 10_000, ...config })
  pool.on('error', () => {})
  pool.on('connect', (client) => {
    client.on('error', () => {})
    keepPrecompiledPrepared(client)
  })
  return pool
}

/** The URL's password is registered for redaction when the URL is parsed (parseDatabaseUrl). */
export function openPostgres(url: string): Connection {
  const pool = survivingPool({ connectionString: url, max: 10 })
  // Kysely's backend once loaded: from then on every statement goes through it (see SqlRunner).
  let full: Backend | undefined
  let loading: Promise<Backend> | undefined
  const connection: Connection = {
    name: 'postgres',
    displayUrl: redactUrl(url),
    spelling: PG_SPELLING,
    async query<R>(text: string, parameters: readonly unknown[]): Promise<R[]> {
      if (full) return full.query<R>(text, parameters)
      return (await pool.query(text, [...parameters])).rows as R[]
    },
    assertIntact: () => {},
    backend: () =>
      (loading ??= import('./postgres.js').then((m) => {
        full = m.postgresBackend(connection, pool, url)
        return full
      })),
    async close() {
      const loaded = await loading?.catch(() => undefined)
      if (loaded) await loaded.close()
      else await pool.end()
    },
    toIso: isoReader((value) => new Date(value).toISOString()),
    isUniqueViolation: (error) => (error as { code?: unknown })?.code === '23505',
  }
  return connection
}
