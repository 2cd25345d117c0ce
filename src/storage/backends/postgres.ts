import type { Pool, PoolClient } from 'pg'
import { Kysely, PostgresDialect } from 'kysely'
import type { Backend, Connection, Session } from '../backend.js'
import type { Database } from '../schema.js'
import { clockOf } from './clock.js'
import { PgListener } from './pg-listener.js'
import { ANNOUNCE_QUEUED, survivingPool } from './pg-connection.js'
import { pgQuery, pgTransaction } from './pg-prepared.js'

const kyselyOn = (pool: Pool) => new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })

/** The whole PostgreSQL backend on a connection already open (pg-connection.ts) and its pool. */
export function postgresBackend(connection: Connection, pool: Pool, url: string): Backend {
  const db = kyselyOn(pool)
  // Claims only: one connection stays open however long the worker idles, since a new one costs an idle
  // worker's next pickup tens of ms. Its commits are durable like every other (see Backend.claim).
  const claimPool = survivingPool({ connectionString: url, max: 2, min: 1 })
  const claimer: Session = {
    spelling: connection.spelling,
    db: kyselyOn(claimPool),
    query: (text, values, name) => pgQuery(claimPool, text, values, name),
  }
  const listener = new PgListener(url)

  const backend: Backend = {
    ...connection,
    db,
    async close() {
      await listener.close()
      await Promise.all([db.destroy(), claimer.db.destroy()])
      // Kysely ends a pool only if it ran a query on it; one left open keeps the process alive.
      await Promise.all([pool, claimPool].map((p) => (p.ending ? undefined : p.end())))
    },
    ...clockOf(connection.spelling),
    gatesBeforeScan: true,
    timestampType: 'timestamptz',
    serialType: 'bigserial',
    idType: 'uuid',
    // Loaded on first use (a worker never copies).
    copyNewTasks: async (rows, beforeCommit) => (await import('./pg-copy.js')).copyNewTasks(pool, rows, beforeCommit),
    concurrentWriters: true,
    writeTransaction: (fn) => pgTransaction(pool, (client) => fn(onClient(connection, client))),
    exclusive: (fn) => fn(backend),
    claim: (fn) => fn(claimer),
    // LISTEN holds its connection for as long as it listens: one client of its own.
    hears: 'changes',
    listen: (channel, onMessage) => listener.listen(channel, onMessage),
    async announceQueued(trx, queues) {
      if (queues.length > 0) await trx.query(ANNOUNCE_QUEUED, [queues], 'announce_queued')
    },
  }
  return backend
}

/** A transaction's client as a Session; its Kysely handle is made on first use and kept with the client. */
function onClient(connection: Connection, client: PoolClient): Session {
  return {
    spelling: connection.spelling,
    query: (text, values, name) => pgQuery(client, text, values, name),
    get db() {
      let db = KYSELY_OF.get(client)
      if (!db) {
        const held = { query: client.query.bind(client), release: () => {} }
        db = new Kysely<Database>({
          dialect: new PostgresDialect({ pool: { connect: async () => held, end: async () => {} } }),
        })
        KYSELY_OF.set(client, db)
      }
      return db
    },
  }
}

const KYSELY_OF = new WeakMap<PoolClient, Kysely<Database>>()
