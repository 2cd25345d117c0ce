import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import { StorageError } from '../../errors.js'
import { isoReader, lazyBackend, runNative, type Backend, type Connection, type SqlSpelling } from '../backend.js'

/** How long a writer waits for the lock before "database is locked"; workers hold it for milliseconds. */
const BUSY_TIMEOUT_MS = 10_000
/** Each connection's page cache in KiB (default 2,000): another process's commit empties it; the OS caches the file. */
const PAGE_CACHE_KIB = 512

/** Required, not imported: Node scans an imported CommonJS module for its exports (ms of every command). */
const Sqlite: typeof BetterSqlite3 = createRequire(import.meta.url)('better-sqlite3')

/**
 * better-sqlite3 loads its native module at the first open. Installed with scripts off (pnpm's default)
 * it was never built, or under another Node.js for another ABI: its own error says nothing of the fix.
 */
function openNative(file: string): BetterSqlite3.Database {
  try {
    return new Sqlite(file, { timeout: BUSY_TIMEOUT_MS })
  } catch (error) {
    if (!/Could not locate the bindings file|NODE_MODULE_VERSION/.test((error as Error).message)) throw error
    throw new StorageError(
      `sq on SQLite needs better-sqlite3 built for Node.js ${process.version}, which it is not: npm rebuild better-sqlite3 (with pnpm: pnpm approve-builds, then pnpm rebuild better-sqlite3)`,
      { cause: error },
    )
  }
}

/** Rows a sample of sq_tasks looks up. */
const SAMPLED_ROWS = 5000
const LOWEST_ROWID = `(select min(rowid) from "sq_tasks")`
const ROWID_SPAN = `((select max(rowid) from "sq_tasks") - ${LOWEST_ROWID} + 1)`

const SQLITE_SPELLING: SqlSpelling = {
  param: () => '?',
  // The time as ISO-8601 UTC text with ms, which sorts in time order (see task-row.ts's Timestamp).
  now: `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
  // SQLite reads the clock to the ms and drops the rest, half a ms on average: added back.
  nowMs: `(julianday('now') - 2440587.5) * 86400000.0 + 0.5`,
  nowPlusSeconds: (seconds) => `strftime('%Y-%m-%dT%H:%M:%fZ', 'now', (${seconds}) || ' seconds')`,
  // The commit is the announcement (Backend.announceQueued).
  announcingQueue: (insert) => insert,
  // The main file's full path, as SQLite resolved it when the connection opened it.
  placeQuery: `select "file" as "place", exists (select 1 from sqlite_master where "type" = 'table' and "name" = 'sq_tasks') as "migrated" from pragma_database_list where "name" = 'main'`,
  jsonRows: (parameter) => `json_each(${parameter}) as r`,
  // A JSON value reads as the SQL value of its type, which SQLite's columns take as they are.
  cast: (expression) => expression,
  // `where true`: SQLite's parser needs a WHERE between INSERT … SELECT and ON CONFLICT. json_each's
  // key is the index in the array.
  orderedJsonRows: (parameter) => `json_each(${parameter}) as r where true order by r.key`,
  lockForClaim: '',
  claimTieBreak: 'rowid',
  // Systematic: one row looked up by rowid in each of SAMPLED_ROWS equal spans of the rowids, at a random
  // place in it (rows are appended in time order, so each period is sampled); a purged rowid finds none.
  // CROSS JOIN keeps the lookups the outer loop (else a status filter walks its index); min and max apart,
  // each a seek (together they scan).
  viaClaimIndex: ' indexed by "sq_tasks_claim"',
  taskSample: {
    from: `(select "sq_tasks".* from (with recursive "k"("i") as (select 0 union all select "i" + 1 from "k"
      where "i" < ${SAMPLED_ROWS - 1}) select ${LOWEST_ROWID} + cast(("i" + abs(random() % 1000000) / 1000000.0) * ${ROWID_SPAN} / ${SAMPLED_ROWS} as integer) as "r"
      from "k") as "picked" cross join "sq_tasks" on "sq_tasks".rowid = "picked"."r") as "sample"`,
    scale: `(${ROWID_SPAN} / ${SAMPLED_ROWS}.0)`,
  },
}

/** The native connection with a statement cache, shared by the SQL written out and by Kysely. */
export interface NativeSqlite {
  readonly native: BetterSqlite3.Database
  close(): void
  prepare(source: string): BetterSqlite3.Statement
}

/** Kysely prepares each query anew, costlier than running most of sq's; run synchronously, none is in use twice. */
function withStatementCache(native: BetterSqlite3.Database, max = 256): NativeSqlite {
  const cache = new Map<string, BetterSqlite3.Statement>()
  return {
    native,
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
 * One connection per file per process: better-sqlite3 is synchronous, so a write on a second would wait
 * for the first's lock blocking the only thread that could release it. The last close closes it.
 */
const shared = new Map<string, { connection: Connection; refs: number }>()

export function openSqlite(file: string): Connection {
  const resolved = path.resolve(file)
  let entry = shared.get(resolved)
  if (!entry) {
    entry = { connection: openConnection(file, resolved), refs: 0 }
    shared.set(resolved, entry)
  }
  entry.refs++
  const { connection } = entry
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    if (--entry.refs === 0) {
      shared.delete(resolved)
      await connection.close()
    }
  }
  let backend: Promise<Backend> | undefined
  return {
    ...connection,
    close,
    backend: () => (backend ??= connection.backend().then((b) => ({ ...b, close }))),
  }
}

function openConnection(file: string, resolved: string): Connection {
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
    native = openNative(resolved)
    // WAL: readers never block the writer and the writer never blocks readers, so `sq list` and `sq top`
    // can read while workers write; without it every claim would stall every reader.
    native.pragma('journal_mode = WAL')
    // NORMAL is crash-safe in WAL mode (a process crash loses nothing committed); only a power cut
    // can drop the last transactions.
    native.pragma('synchronous = NORMAL')
    native.pragma('foreign_keys = ON')
    native.pragma(`cache_size = -${PAGE_CACHE_KIB}`)
  } catch (error) {
    if (error instanceof StorageError) throw error
    throw new StorageError(`cannot open SQLite database ${file}: ${(error as Error).message}`, { cause: error })
  }
  const cached = withStatementCache(native)
  const identity = fs.statSync(resolved)
  const whole = lazyBackend(
    async () => (await import('./sqlite.js')).sqliteBackend(connection, cached, resolved),
    () => native.close(),
  )
  const connection: Connection = {
    name: 'sqlite',
    displayUrl: `sqlite:${file}`,
    spelling: SQLITE_SPELLING,
    async query<R>(text: string, values: readonly unknown[]): Promise<R[]> {
      // Once Kysely is loaded, a statement takes its turn through it rather than join a transaction.
      return whole.loaded ? whole.loaded.query<R>(text, values) : runNative<R>(cached, text, values)
    },
    assertIntact() {
      const now = fs.statSync(resolved, { throwIfNoEntry: false })
      if (!now || now.ino !== identity.ino || now.dev !== identity.dev) {
        throw new StorageError(
          `the database file ${file} was ${now ? 'replaced' : 'deleted'} while in use; what is written now would be lost`,
        )
      }
    },
    backend: whole.backend,
    close: whole.close,
    toIso: isoReader((value) => (typeof value === 'string' ? value : value.toISOString())),
    // Not SQLITE_FULL, _IOERR, _BUSY, _READONLY: the file's trouble, not the row's.
    isRefusal: (error) =>
      /^SQLITE_(TOOBIG|CONSTRAINT|MISMATCH|RANGE)/.test(String((error as { code?: unknown })?.code)),
    isMissingTable: (error) => /no such table/.test(String((error as { message?: unknown })?.message)),
  }
  return connection
}
