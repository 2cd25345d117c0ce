import { Kysely, SqliteAdapter, SqliteDialect, sql, type SelectQueryBuilder } from 'kysely'
import type { Backend, Connection } from '../backend.js'
import type { Database } from '../schema.js'
import { kyselyRunner } from '../kysely-runner.js'
import { WalWatcher } from './wal-watcher.js'
import { newTasksJson } from '../task-repository.js'
import { inNewTaskOrder } from '../task-row.js'
import { runNative, SQLITE_SPELLING, type NativeSqlite } from './sqlite-connection.js'

const ISO_NOW = SQLITE_SPELLING.now

/** A new task's values from one element `r` of newTasksJson's array (json_each). */
const NEW_TASK_VALUES = inNewTaskOrder({
  id: 'r.value ->> 0',
  task: 'r.value ->> 1',
  args: 'r.value ->> 2',
  status: `'queued'`,
  queue: 'r.value ->> 3',
  priority: 'r.value ->> 4',
  max_attempts: 'r.value ->> 5',
  attempts: '0',
  key: 'r.value ->> 6',
  created: ISO_NOW,
  modified: ISO_NOW,
  run_at: `coalesce(r.value ->> 7, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', (r.value ->> 8) || ' seconds'))`,
})

/**
 * Kysely's SQLite adapter takes no migration lock because it assumes one connection, but several sq
 * processes may open one file at once. BEGIN IMMEDIATE is a lock across processes that waits its turn,
 * and SQLite's DDL is transactional, so the whole migration runs under it.
 */
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
  const viaKysely = kyselyRunner(SQLITE_SPELLING, db)

  const backend: Backend = {
    // The connection
    name: 'sqlite',
    db,
    displayUrl: connection.displayUrl,
    assertIntact: () => connection.assertIntact(),
    async close() {
      watcher.close()
      await db.destroy()
      // Kysely closes the handle only if it ever ran a query on it (the -wal file stayed otherwise).
      if (native.open) native.close()
    },
    spelling: SQLITE_SPELLING,
    // Outside a transaction the statement runs at once on the connection, without Kysely's per-query
    // work (createTask's INSERT: 44 → 35 µs of CPU): better-sqlite3 is synchronous, so nothing else can
    // run on the connection meanwhile. Inside one (another call's, awaiting between its statements) it
    // waits its turn through Kysely, as every query does, rather than join it.
    async query<R>(text: string, parameters: readonly unknown[]): Promise<R[]> {
      if (native.inTransaction) return viaKysely.query<R>(text, parameters)
      return runNative<R>(cached, text, parameters)
    },
    // SQL fragments
    gatesBeforeScan: false,
    claimTieBreak: 'rowid',
    newTaskRows: (rows) => sql`
      SELECT ${sql.raw(NEW_TASK_VALUES)}
      FROM json_each(${newTasksJson(rows)}) AS r
      WHERE true -- SQLite's parser needs a WHERE between INSERT … SELECT and ON CONFLICT
      ORDER BY r.key -- json_each's key: the index in the array, so the batch keeps its order`,
    jsonRows: (json) => sql`json_each(${json}) as r`,
    now: () => sql<string>`${sql.raw(ISO_NOW)}`,
    nowPlusSeconds: (seconds) => sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', (${seconds}) || ' seconds')`,
    toIso: connection.toIso,
    lockForClaim: <O>(query: SelectQueryBuilder<Database, 'sq_tasks', O>) => query,
    // DDL types
    timestampType: 'text',
    serialType: 'integer',
    idType: 'text',
    // Bulk load
    copyNewTasks: null,
    // Transactions
    concurrentWriters: false,
    async writeTransaction(fn) {
      return db.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn)
        try {
          const result = await fn(conn)
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
    // Notifications: no LISTEN; a commit hint from the WAL file (see Notifications.hears).
    hears: 'commits',
    async listen(_channel, onMessage) {
      const stop = watcher.listen(() => onMessage(''))
      return async () => stop()
    },
    // The commit is the announcement.
    announceQueued: async () => {},
    // Error classification
    isRefusal: connection.isRefusal,
  }
  return backend
}
