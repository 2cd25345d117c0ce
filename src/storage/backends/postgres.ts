import type { Pool, PoolClient } from 'pg'
import { Kysely, PostgresDialect } from 'kysely'
import { StorageError } from '../../errors.js'
import { redactSecrets } from '../../redact.js'
import type { Backend, Connection, Session, SqlRunner } from '../backend.js'
import type { Database } from '../schema.js'
import { clockOf } from './clock.js'
import { PgListener } from './pg-listener.js'
import { PgRelay } from './pg-relay.js'
import { ANNOUNCE_QUEUED, announcedValues, type PgRun, pgTransaction } from './pg-connection.js'

/**
 * The whole PostgreSQL backend on a connection already open (pg-connection.ts) and its pool. `listenUrl`:
 * where the listener connects; when it is not the pool's (Settings.listenUrl, direct while the pool goes
 * through PgBouncer in transaction mode) it carries LISTEN alone, and the kept work goes through the pool.
 */
export function postgresBackend(
  connection: Connection,
  pool: Pool,
  { url, listenUrl, run }: { url: string; listenUrl: string | null; run: PgRun },
): Backend {
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  const listener = new PgListener(listenUrl ?? url, run)
  const kept: SqlRunner = {
    spelling: connection.spelling,
    query: listenUrl
      ? (text, values, name) => run(pool, text, values, name)
      : (text, values, name) => listener.query(text, values, name),
  }
  const own: Backend['listen'] = listenUrl
    ? directListen(listener, listenUrl, kept)
    : (channel, onMessage) => listener.listen(channel, onMessage)
  // The workers of a host share one LISTEN; a follower keeps its own connection only where it carries the
  // kept statements (no listenUrl).
  const relay = new PgRelay(listenUrl ?? url, {
    listen: own,
    hearing: () => listener.connected,
    hold: listenUrl ? () => () => {} : () => listener.hold(),
  })

  const backend: Backend = {
    ...connection,
    db,
    async close() {
      await relay.close()
      await listener.close()
      await db.destroy()
      // Kysely ends a pool only if it ran a query on it; one left open keeps the process alive.
      if (!pool.ending) await pool.end()
    },
    ...clockOf(connection.spelling),
    gatesBeforeScan: true,
    timestampType: 'timestamptz',
    serialType: 'bigserial',
    idType: 'uuid',
    // Loaded on first use (a worker never copies).
    copyNewTasks: async (rows, beforeCommit) =>
      (await import('./pg-copy.js')).copyNewTasks(pool, run, rows, beforeCommit),
    concurrentWriters: true,
    writeTransaction: (fn) => pgTransaction(pool, (client) => fn(onClient(connection, client, run))),
    exclusive: (fn) => fn(backend),
    claim: (fn) => fn(kept),
    kept,
    hears: 'changes',
    listen: (channel, onMessage, o) =>
      o?.shared ? relay.listen(channel, onMessage, o.shared) : own(channel, onMessage),
    hearing: () => (relay.active ? relay.hearing() : listener.connected),
    async announceQueued(trx, counts) {
      if (counts.size > 0) await trx.query(ANNOUNCE_QUEUED, announcedValues(counts), 'announce_queued')
    },
  }
  return backend
}

/**
 * Backend.listen on a listenUrl: a failure said by name (the database of `db` may be up), and, at the
 * first, a check that it reaches that database: LISTEN on another would hear nothing, silently.
 */
function directListen(listener: PgListener, listenUrl: string, pooled: SqlRunner): Backend['listen'] {
  const named = `listenUrl ${redactSecrets(listenUrl)}`
  const place = async (on: Pick<SqlRunner, 'query'>) =>
    (await on.query<{ place: string }>(pooled.spelling.placeQuery, []))[0]!.place
  let checked: Promise<void> | undefined
  const samePlace = async () => {
    const [direct, ours] = await Promise.all([place(listener), place(pooled)])
    if (direct !== ours) throw new StorageError(`${named} reaches ${direct}, not the database of db, ${ours}`)
  }
  return async (channel, onMessage) => {
    let stop: () => Promise<void>
    try {
      stop = await listener.listen(channel, onMessage)
    } catch (error) {
      throw new StorageError(`cannot LISTEN on ${named}: ${(error as Error).message}`, { cause: error })
    }
    try {
      await (checked ??= samePlace())
    } catch (error) {
      await stop()
      throw error
    }
    return stop
  }
}

/** A transaction's client as a Session; its Kysely handle is made on first use and kept with the client. */
function onClient(connection: Connection, client: PoolClient, run: PgRun): Session {
  return {
    spelling: connection.spelling,
    query: (text, values, name) => run(client, text, values, name),
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
