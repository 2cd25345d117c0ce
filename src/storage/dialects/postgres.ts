import pg from 'pg'
import { Kysely, PostgresDialect, sql, type SelectQueryBuilder } from 'kysely'
import { redactUrl, registerSecret } from '../../redact.js'
import type { Dialect } from '../dialect.js'
import { PgListener } from './pg-listener.js'
import type { Database } from '../schema.js'

export function openPostgres(url: string): Dialect {
  try {
    registerSecret(new URL(url).password)
  } catch {
    // not parseable as a URL: pg will reject it with its own message, which is redacted on output
  }
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 10_000 })
  // An idle client that loses its server emits 'error' on the pool; without a listener that would
  // crash the process. The next query reports the problem instead.
  pool.on('error', () => {})
  // A client checked out of the pool (mid-query) that loses its server emits 'error' on itself, where the
  // pool listens no longer: without this, a PostgreSQL restart would crash every worker. The query in
  // flight fails with its own error, which its caller handles (retry, backoff).
  pool.on('connect', (client) => client.on('error', () => {}))
  const listener = new PgListener(url)
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  // Claims only: their commit is acknowledged before it is durable (see Dialect.claim).
  const claimPool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 10_000, options: '-c synchronous_commit=off' })
  claimPool.on('error', () => {})
  claimPool.on('connect', (client) => client.on('error', () => {}))
  const claimDb = new Kysely<Database>({ dialect: new PostgresDialect({ pool: claimPool }) })

  return {
    name: 'postgres',
    db,
    displayUrl: redactUrl(url),
    timestampType: 'timestamptz',
    serialType: 'bigserial',
    needsPolling: false,
    // now() is the transaction's start; every statement here is its own short transaction.
    now: () => sql<string>`now()`,
    nowPlusSeconds: (seconds) => sql<string>`now() + make_interval(secs => cast(${seconds} as double precision))`,
    toIso: ((value: Date | string | null) =>
      value === null ? null : new Date(value).toISOString()) as Dialect['toIso'],
    writeTransaction: (fn) => db.transaction().execute(fn),
    exclusive: (fn) => fn(db),
    claim: (fn) => fn(claimDb),
    lockForClaim: <O>(query: SelectQueryBuilder<Database, 'sq_tasks', O>) => query.forUpdate().skipLocked(),
    // LISTEN holds its connection for as long as it listens: one client of its own, not a pooled one.
    listen: (channel, onMessage) => listener.listen(channel, onMessage),
    assertIntact: () => {},
    isUniqueViolation: (error) => (error as { code?: unknown })?.code === '23505',
    async close() {
      await listener.close()
      await Promise.all([db.destroy(), claimDb.destroy()])
    },
  }
}
