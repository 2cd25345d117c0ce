import fs from 'node:fs'
import path from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteAdapter, SqliteDialect, sql, type SelectQueryBuilder } from 'kysely'
import { StorageError } from '../../errors.js'
import { isoReader, type Backend } from '../backend.js'
import type { Database } from '../schema.js'
import { WalWatcher } from './wal-watcher.js'
import { newTasksJson } from '../task-repository.js'

/** How long a writer waits for the lock before "database is locked"; workers hold it for milliseconds. */
const BUSY_TIMEOUT_MS = 10_000
const ISO_NOW = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`

/**
 * Kysely's SQLite adapter takes no migration lock because it assumes one connection, but several sq
 * processes may open one file at once. BEGIN IMMEDIATE is a lock across processes that waits its turn,
 * and SQLite's DDL is transactional, so the whole migration runs under it.
 */
class LockingSqliteAdapter extends SqliteAdapter {
  override async acquireMigrationLock(db: Kysely<any>): Promise<void> {
    await sql`begin immediate`.execute(db)
  }
  override async releaseMigrationLock(db: Kysely<any>): Promise<void> {
    await sql`commit`.execute(db)
  }
}

class LockingSqliteDialect extends SqliteDialect {
  override createAdapter() {
    return new LockingSqliteAdapter()
  }
}

/**
 * Kysely prepares every query anew; preparing costs more than running most of sq's statements. The
 * worker repeats the same few, so prepared statements are kept (bounded; Kysely runs each to completion
 * synchronously, so one statement is never in use twice at once).
 */
function withStatementCache(native: BetterSqlite3.Database, max = 256) {
  const cache = new Map<string, BetterSqlite3.Statement>()
  return {
    close: () => native.close(),
    prepare(source: string) {
      let statement = cache.get(source)
      if (!statement) {
        statement = native.prepare(source)
        if (cache.size >= max) cache.delete(cache.keys().next().value!)
        cache.set(source, statement)
      }
      return statement
    },
  }
}

/**
 * One connection per file per process. better-sqlite3 is synchronous: were one process to hold two
 * connections to a file, a write on one would wait for the other's lock while blocking the only thread
 * that could release it — a freeze, then "database is locked". So a second open of the same file shares
 * the first one's connection (Kysely serialises its use), and the last close closes it.
 */
const shared = new Map<string, { backend: Backend; refs: number }>()

export function openSqlite(file: string): Backend {
  const resolved = path.resolve(file)
  let entry = shared.get(resolved)
  if (!entry) {
    entry = { backend: openConnection(file, resolved), refs: 0 }
    shared.set(resolved, entry)
  }
  entry.refs++
  const { backend } = entry
  let closed = false
  return {
    ...backend,
    async close() {
      if (closed) return
      closed = true
      if (--entry.refs === 0) {
        shared.delete(resolved)
        await backend.close()
      }
    },
  }
}

function openConnection(file: string, resolved: string): Backend {
  if (!fs.existsSync(resolved)) {
    if (!fs.existsSync(path.dirname(resolved))) {
      throw new StorageError(
        `cannot create SQLite database ${file}: directory ${path.dirname(resolved)} does not exist`,
      )
    }
    // Created owner-only before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
    fs.closeSync(fs.openSync(resolved, 'a', 0o600))
    fs.chmodSync(resolved, 0o600)
  }
  let native: BetterSqlite3.Database
  try {
    native = new BetterSqlite3(resolved, { timeout: BUSY_TIMEOUT_MS })
    // WAL: readers never block the writer and the writer never blocks readers, so `sq list` and `sq top`
    // can read while workers write; without it every claim would stall every reader.
    native.pragma('journal_mode = WAL')
    // NORMAL is crash-safe in WAL mode (a process crash loses nothing committed); only a power cut
    // can drop the last transactions.
    native.pragma('synchronous = NORMAL')
    native.pragma('foreign_keys = ON')
  } catch (error) {
    throw new StorageError(`cannot open SQLite database ${file}: ${(error as Error).message}`, { cause: error })
  }
  const statements = withStatementCache(native)
  const db = new Kysely<Database>({ dialect: new LockingSqliteDialect({ database: statements }) })
  const watcher = new WalWatcher(`${resolved}-wal`)
  const identity = fs.statSync(resolved)

  const backend: Backend = {
    // The connection
    name: 'sqlite',
    db,
    displayUrl: `sqlite:${file}`,
    assertIntact() {
      let now: fs.Stats | undefined
      try {
        now = fs.statSync(resolved)
      } catch {
        // gone
      }
      if (!now || now.ino !== identity.ino || now.dev !== identity.dev) {
        throw new StorageError(
          `the database file ${file} was ${now ? 'replaced' : 'deleted'} while in use; what is written now would be lost`,
        )
      }
    },
    async close() {
      watcher.close()
      await db.destroy()
    },
    // SQL fragments
    gatesBeforeScan: false,
    claimTieBreak: 'rowid',
    newTaskRows: (rows) => sql`
      SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2, 'queued', r.value ->> 3, r.value ->> 4, r.value ->> 5, 0, r.value ->> 6,
             ${sql.raw(ISO_NOW)}, ${sql.raw(ISO_NOW)},
             coalesce(r.value ->> 7, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', (r.value ->> 8) || ' seconds'))
      FROM json_each(${newTasksJson(rows)}) AS r
      WHERE true -- SQLite's parser needs a WHERE between INSERT … SELECT and ON CONFLICT
      ORDER BY r.key -- json_each's key: the index in the array, so the batch keeps its order`,
    jsonRows: (json) => sql`json_each(${json}) as r`,
    now: () => sql<string>`${sql.raw(ISO_NOW)}`,
    nowPlusSeconds: (seconds) => sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', (${seconds}) || ' seconds')`,
    toIso: isoReader((value) => (typeof value === 'string' ? value : value.toISOString())),
    lockForClaim: <O>(query: SelectQueryBuilder<Database, 'sq_tasks', O>) => query,
    // DDL types
    timestampType: 'text',
    serialType: 'integer',
    // Transactions
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
    // Prepared statements: every statement is (withStatementCache). Outside a transaction the statement
    // runs at once on the connection, without Kysely's per-query work: better-sqlite3 is synchronous, so
    // nothing else can run on the connection meanwhile. Inside one (another call's, awaiting between its
    // statements) it waits its turn through Kysely, as any query does, rather than join it.
    async runPrepared(_name, query) {
      if (native.inTransaction) await db.executeQuery(query)
      else statements.prepare(query.sql).run(query.parameters as unknown[])
    },
    // Notifications: no LISTEN; a commit hint from the WAL file (see Notifications.hears).
    hears: 'commits',
    async listen(_channel, onMessage) {
      const stop = watcher.listen(() => onMessage(''))
      return async () => stop()
    },
    // Error classification
    isUniqueViolation: (error) =>
      typeof (error as { code?: unknown })?.code === 'string' &&
      /^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/.test((error as { code: string }).code),
  }
  return backend
}
