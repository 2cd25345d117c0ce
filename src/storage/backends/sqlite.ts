import { CompiledQuery, Kysely, SqliteAdapter, SqliteDialect, sql } from 'kysely'
import { type Backend, type Connection, runNative, type Session } from '../backend.js'
import type { Database } from '../schema.js'
import { clockOf } from './clock.js'
import { WalWatcher } from './wal-watcher.js'
import type { NativeSqlite } from './sqlite-connection.js'

/** A migration lock across processes (Kysely's SQLite adapter takes none): SQLite's DDL is transactional. */
class LockingSqliteAdapter extends SqliteAdapter {
  override async acquireMigrationLock(db: Kysely<unknown>): Promise<void> {
    await sql`begin immediate`.execute(db)
  }
  override async releaseMigrationLock(db: Kysely<unknown>): Promise<void> {
    await sql`commit`.execute(db)
  }
}

class LockingSqliteDialect extends SqliteDialect {
  override createAdapter() {
    return new LockingSqliteAdapter()
  }
}

/** The whole SQLite backend on a connection already open (sqlite-connection.ts), which owns the file. */
export function sqliteBackend(connection: Connection, cached: NativeSqlite, resolved: string): Backend {
  const { native } = cached
  const db = new Kysely<Database>({ dialect: new LockingSqliteDialect({ database: cached }) })
  const watcher = new WalWatcher(`${resolved}-wal`)
  // Inside a transaction that holds the connection, a statement runs at once on it: nothing else can.
  const onConnection = (conn: Kysely<Database>): Session => ({
    spelling: connection.spelling,
    db: conn,
    query: async (text, values) => runNative(cached, text, values),
  })

  const backend: Backend = {
    ...connection,
    db,
    async close() {
      watcher.close()
      await db.destroy()
      // Kysely closes the handle only if it ever ran a query on it (the -wal file stayed otherwise).
      if (native.open) native.close()
    },
    // Outside a transaction at once, without Kysely's per-query work (better-sqlite3 is synchronous);
    // inside another call's, it waits its turn through Kysely rather than join it.
    async query<R>(text: string, values: readonly unknown[]): Promise<R[]> {
      if (!native.inTransaction) return runNative<R>(cached, text, values)
      return (await db.executeQuery<R>(CompiledQuery.raw(text, [...values]))).rows as R[]
    },
    ...clockOf(connection.spelling),
    gatesBeforeScan: false,
    timestampType: 'text',
    serialType: 'integer',
    idType: 'text',
    copyNewTasks: null,
    concurrentWriters: false,
    async writeTransaction(fn) {
      return db.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn)
        try {
          const result = await fn(onConnection(conn))
          await sql`commit`.execute(conn)
          return result
        } catch (error) {
          if (native.inTransaction) await sql`rollback`.execute(conn)
          throw error
        }
      })
    },
    exclusive: (fn) => backend.writeTransaction(fn),
    claim: (fn) => backend.exclusive(fn),
    get kept() {
      return backend
    },
    // Notifications: no LISTEN; a commit hint from the WAL file (see Backend.hears).
    hears: 'commits',
    async listen(_channel, onMessage) {
      const stop = watcher.listen(() => onMessage(''))
      return async () => stop()
    },
    // The commit is the announcement.
    hearing: () => watcher.watching,
    announceQueued: async () => {},
  }
  return backend
}
