import pg from 'pg'
import { Kysely, PostgresDialect, sql, type SelectQueryBuilder } from 'kysely'
import { redactUrl, registerSecret } from '../../redact.js'
import type { Dialect } from '../dialect.js'
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
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })

  return {
    name: 'postgres',
    db,
    displayUrl: redactUrl(url),
    timestampType: 'timestamptz',
    serialType: 'bigserial',
    needsPolling: false,
    // now() is the transaction's start; every statement here is its own short transaction.
    now: () => sql<string>`now()`,
    nowPlusSeconds: (seconds) => sql<string>`now() + make_interval(secs => ${seconds})`,
    toIso: ((value: Date | string | null) =>
      value === null ? null : new Date(value).toISOString()) as Dialect['toIso'],
    writeTransaction: (fn) => db.transaction().execute(fn),
    exclusive: (fn) => fn(db),
    lockForClaim: <O>(query: SelectQueryBuilder<Database, 'sq_tasks', O>) => query.forUpdate().skipLocked(),
    async listen(channel, onMessage) {
      // LISTEN holds its connection for as long as it listens, so it gets its own client, not a pooled one.
      const client = new pg.Client({ connectionString: url })
      client.on('error', () => {})
      await client.connect()
      client.on('notification', (message) => {
        if (message.channel === channel) onMessage(message.payload ?? '')
      })
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`)
      return async () => {
        await client.end().catch(() => {})
      }
    },
    isUniqueViolation: (error) => (error as { code?: unknown })?.code === '23505',
    async close() {
      await db.destroy()
    },
  }
}
