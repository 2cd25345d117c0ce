import type { Pool as PgPool, PoolConfig } from 'pg'
import { pg } from './pg-driver.js'
import { Kysely, PostgresDialect, sql, type SelectQueryBuilder } from 'kysely'
import { redactUrl } from '../../redact.js'
import { isoReader, type Backend } from '../backend.js'
import { PgListener } from './pg-listener.js'
import { keepPrecompiledPrepared } from './pg-prepared.js'
import { newTasksJson } from '../task-repository.js'
import type { Database } from '../schema.js'

/**
 * A Kysely handle on a pool that survives its server. An idle client that loses its server emits
 * 'error' on the pool; a client checked out (mid-query) emits it on itself, where the pool listens no
 * longer. Without listeners on both, a PostgreSQL restart would crash every worker. The query in
 * flight fails with its own error, which its caller handles (retry, backoff).
 */
function survivingPool(config: PoolConfig): { pool: PgPool; db: Kysely<Database> } {
  const pool = new pg.Pool({ connectionTimeoutMillis: 10_000, ...config })
  pool.on('error', () => {})
  pool.on('connect', (client) => {
    client.on('error', () => {})
    keepPrecompiledPrepared(client)
  })
  return { pool, db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }) }
}

/** The URL's password is registered for redaction when the URL is parsed (parseDatabaseUrl). */
export function openPostgres(url: string): Backend {
  const { pool, db } = survivingPool({ connectionString: url, max: 10 })
  // Claims only: their commit is acknowledged before it is durable (see Backend.claim). One connection
  // stays open however long the worker idles: a new one costs an idle worker's next pickup tens of ms.
  const claimDb = survivingPool({ connectionString: url, max: 2, min: 1, options: '-c synchronous_commit=off' }).db
  const listener = new PgListener(url)

  return {
    // The connection
    name: 'postgres',
    db,
    displayUrl: redactUrl(url),
    assertIntact: () => {},
    async close() {
      await listener.close()
      await Promise.all([db.destroy(), claimDb.destroy()])
    },
    // SQL fragments. now() is the transaction's start; every statement here is its own short transaction.
    now: () => sql<string>`now()`,
    nowPlusSeconds: (seconds) => sql<string>`now() + make_interval(secs => cast(${seconds} as double precision))`,
    toIso: isoReader((value) => new Date(value).toISOString()),
    lockForClaim: <O>(query: SelectQueryBuilder<Database, 'sq_tasks', O>) => query.forUpdate().skipLocked(),
    gatesBeforeScan: true,
    claimTieBreak: 'pick-number',
    // One JSON text (see newTasksJson): pg escapes array parameters element by element in JavaScript,
    // which for nine arrays cost more than the insert; V8 writes JSON natively. Read as jsonb, parsed
    // once: `json` is kept as text and each ->> parses its row again from the start, nine times a row
    // (5,000 rows: 24 → 9 ms of the server's CPU into a table without indexes).
    newTaskRows: (rows) => sql`
      SELECT r.v ->> 0, r.v ->> 1, r.v ->> 2, 'queued', r.v ->> 3, (r.v ->> 4)::int, (r.v ->> 5)::int, 0, r.v ->> 6, now(), now(),
             coalesce((r.v ->> 7)::timestamptz, now() + make_interval(secs => (r.v ->> 8)::float8))
      FROM jsonb_array_elements(${newTasksJson(rows)}::jsonb) WITH ORDINALITY AS r(v, n)
      ORDER BY r.n`,
    // jsonb: parsed once; a json value is parsed again by each ->> of its fields.
    jsonRows: (json) => sql`jsonb_array_elements(cast(${json} as jsonb)) as r(value)`,
    // DDL types
    timestampType: 'timestamptz',
    serialType: 'bigserial',
    // Transactions
    writeTransaction: (fn) => db.transaction().execute(fn),
    exclusive: (fn) => fn(db),
    claim: (fn) => fn(claimDb),
    // Prepared statements. pg prepares a named statement on a connection's first use of the name and
    // then only binds and executes it; a connection lost takes its statements with it, and its
    // replacement prepares them anew. (A pooler in transaction mode must keep prepared statements:
    // PgBouncer ≥ 1.21 with max_prepared_statements.)
    async runPrepared(name, query) {
      await pool.query({ name, text: query.sql, values: query.parameters as unknown[] })
    },
    // Notifications. LISTEN holds its connection for as long as it listens: one client of its own.
    hears: 'changes',
    listen: (channel, onMessage) => listener.listen(channel, onMessage),
    // Error classification
    isUniqueViolation: (error) => (error as { code?: unknown })?.code === '23505',
  }
}
