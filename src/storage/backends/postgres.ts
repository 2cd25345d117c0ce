import type { Pool } from 'pg'
import { CompiledQuery, Kysely, PostgresDialect, sql, type SelectQueryBuilder } from 'kysely'
import type { Backend, Connection } from '../backend.js'
import { PgListener } from './pg-listener.js'
import { newTasksJson } from '../task-repository.js'
import { inNewTaskOrder } from '../task-row.js'
import type { Database } from '../schema.js'
import { ANNOUNCE_QUEUED, survivingPool } from './pg-connection.js'

/** A new task's values from one element `r.v` of newTasksJson's array (jsonb_array_elements). */
const NEW_TASK_VALUES = inNewTaskOrder({
  id: '(r.v ->> 0)::uuid',
  task: 'r.v ->> 1',
  args: 'r.v ->> 2',
  status: `'queued'`,
  queue: 'r.v ->> 3',
  priority: '(r.v ->> 4)::int',
  max_attempts: '(r.v ->> 5)::int',
  attempts: '0',
  key: 'r.v ->> 6',
  created: 'now()',
  modified: 'now()',
  run_at: 'coalesce((r.v ->> 7)::timestamptz, now() + make_interval(secs => (r.v ->> 8)::float8))',
})

const kyselyOn = (pool: Pool) => new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })

/** The whole PostgreSQL backend on a connection already open (pg-connection.ts) and its pool. */
export function postgresBackend(connection: Connection, pool: Pool, url: string): Backend {
  const db = kyselyOn(pool)
  // Claims only: one connection stays open however long the worker idles, since a new one costs an idle
  // worker's next pickup tens of ms. Its commits are durable like every other (see Backend.claim).
  const claimDb = kyselyOn(survivingPool({ connectionString: url, max: 2, min: 1 }))
  const listener = new PgListener(url)

  return {
    // The connection
    name: 'postgres',
    db,
    displayUrl: connection.displayUrl,
    assertIntact: () => {},
    async close() {
      await listener.close()
      await Promise.all([db.destroy(), claimDb.destroy()])
      // Kysely ends the pool only if it ever ran a query on it; a command whose statements all ran on
      // the connection (`sq list` through oclif) otherwise kept its process alive for the pool's 10 s
      // idle timeout.
      if (!pool.ending) await pool.end()
    },
    // The connection's, on the pool, without Kysely's per-query work: the pool gives each statement a
    // connection of its own, so none joins another's transaction.
    spelling: connection.spelling,
    query: connection.query,
    // SQL fragments. now() is the transaction's start; every statement here is its own short transaction.
    now: () => sql<string>`now()`,
    nowPlusSeconds: (seconds) => sql<string>`now() + make_interval(secs => cast(${seconds} as double precision))`,
    toIso: connection.toIso,
    lockForClaim: <O>(query: SelectQueryBuilder<Database, 'sq_tasks', O>) => query.forUpdate().skipLocked(),
    gatesBeforeScan: true,
    claimTieBreak: 'pick-number',
    // One JSON text (see newTasksJson): pg escapes array parameters element by element in JavaScript,
    // which for nine arrays cost more than the insert; V8 writes JSON natively. Read as jsonb, parsed
    // once: `json` is kept as text and each ->> parses its row again from the start, nine times a row
    // (5,000 rows: 24 → 9 ms of the server's CPU into a table without indexes).
    newTaskRows: (rows) => sql`
      SELECT ${sql.raw(NEW_TASK_VALUES)}
      FROM jsonb_array_elements(${newTasksJson(rows)}::jsonb) WITH ORDINALITY AS r(v, n)
      ORDER BY r.n`,
    // jsonb, as newTaskRows.
    jsonRows: (json) => sql`jsonb_array_elements(cast(${json} as jsonb)) as r(value)`,
    // DDL types
    timestampType: 'timestamptz',
    serialType: 'bigserial',
    idType: 'uuid',
    // Bulk load: loaded on first use (a worker never copies).
    copyNewTasks: async (rows, beforeCommit) => (await import('./pg-copy.js')).copyNewTasks(pool, rows, beforeCommit),
    // Transactions
    concurrentWriters: true,
    writeTransaction: (fn) => db.transaction().execute(fn),
    exclusive: (fn) => fn(db),
    claim: (fn) => fn(claimDb),
    // Notifications. LISTEN holds its connection for as long as it listens: one client of its own.
    hears: 'changes',
    listen: (channel, onMessage) => listener.listen(channel, onMessage),
    async announceQueued(trx, queues) {
      if (queues.length > 0) await trx.executeQuery(CompiledQuery.raw(ANNOUNCE_QUEUED, [queues]))
    },
    // Error classification
    isRefusal: connection.isRefusal,
  }
}
