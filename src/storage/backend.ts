import type { Expression, Kysely, RawBuilder } from 'kysely'
import type { Database } from './schema.js'
import type { NewTask } from './task-repository.js'

/** Which database a backend stores in: a SQLite file or a PostgreSQL server. */
export type BackendName = 'sqlite' | 'postgres'

/**
 * The seam between SQLite and PostgreSQL — sq's storage backend (not Kysely's `Dialect`, which is one
 * part of it). One member per difference, each said once with its reason, grouped by concern in the
 * interfaces below. Everything else — every query of the repositories — is written once for both: in
 * Kysely on cold paths, as SQL through `query` on hot and one-shot ones. A Backend is its Connection
 * (`{ ...connection, … }`) with Kysely loaded. Implementations: backends/sqlite.ts, backends/postgres.ts.
 */
export interface Backend
  extends BackendConnection,
    Session,
    SqlFragments,
    DdlTypes,
    Transactions,
    BulkLoad,
    Notifications,
    ErrorClassification {}

/**
 * The database before Kysely: what a one-shot command (`sq enqueue`, `show`, `list`) needs, which runs
 * only statements written out as SQL (task-repository.ts). Loading and compiling Kysely costs such a
 * command about as much as its insert; `backend()` loads it on first use, on the same driver
 * connection. Implementations: backends/sqlite-connection.ts, backends/pg-connection.ts.
 */
export interface Connection extends Omit<BackendConnection, 'db'>, SqlRunner, ErrorClassification {
  /** The whole backend, Kysely's handle included, on this connection; loaded once. */
  backend(): Promise<Backend>
}

/** How each database spells what the statements written out as SQL need. */
export interface SqlSpelling {
  /** The n-th parameter, from 1: `?` on SQLite, `$n` on PostgreSQL. */
  param(n: number): string
  /**
   * The database's current time, so that every host judges heartbeats by one clock: spelled here once,
   * for SQL written out and (SqlFragments) for Kysely's builder alike.
   */
  readonly now: string
  /** The database's current time plus (or minus) the seconds an SQL expression gives. */
  nowPlusSeconds(seconds: string): string
  /** The database's current time in ms since the epoch, a number with what it has of sub-ms precision. */
  readonly nowMs: string
  /** An INSERT of one task as one statement that also announces its queue (Notifications.announceQueued). */
  announcingQueue(insert: string): string
  /**
   * A query of one row: `place`, text that names the database a connection reaches (equal on two
   * connections if and only if they reach the same one), and `migrated`, whether sq's tables are there
   * as that connection sees them — without an error that would abort the transaction it runs in.
   * What an app's executor is checked with before a task is written on it (executor.ts).
   */
  readonly placeQuery: string
  /**
   * A FROM item `r` over the rows of a JSON array of arrays given as ONE parameter: column `value` is
   * one inner array, whose fields `r.value ->> i` reads (text, or NULL for null; cast it). A statement
   * that takes its rows so has one text for any number of rows, kept prepared. PostgreSQL:
   * jsonb_array_elements (jsonb: parsed once, where json's every ->> parses its row again); SQLite:
   * json_each.
   */
  jsonRows(parameter: string): string
  /**
   * New tasks as a SELECT of NEW_TASK_COLUMNS (task-row.ts), in their order, for one multi-row INSERT
   * (bulk-insert.ts), from the JSON text of newTasksJson (task-repository.ts) as ONE parameter: the
   * statement's text is the same for every chunk and no parameter limit applies (a 1,000-row VALUES
   * list costs PostgreSQL ~8× more to parse and plan than to insert, and SQLite more to bind than
   * json_each costs it).
   */
  newTaskRows(parameter: string): string
  /**
   * Ends the claim's inner SELECT (and a purge's batch: task-maintenance.ts) so that it skips rows other
   * claimers hold. PostgreSQL: FOR UPDATE SKIP LOCKED. SQLite has neither and needs neither: it has one
   * writer at a time, so the claim's UPDATE, run in an IMMEDIATE transaction, sees no competing claim.
   */
  readonly lockForClaim: string
  /**
   * What a claimed row returns to break the ties of its pick (RETURNING keeps no order; tasks tie on
   * priority, run_at and created when enqueued in one millisecond or one statement). SQLite: `rowid`,
   * the last key of every index entry, so the pick broke ties by it. PostgreSQL: the row's number in
   * the pick, through UPDATE … FROM (whose columns its RETURNING may name, and SQLite's may not); a
   * heap position is no insertion order there.
   */
  readonly claimTieBreak: 'rowid' | 'pick-number'
}

/** Runs statements written out as SQL: a Connection, a Backend, or one of its transactions (Session). */
export interface SqlRunner {
  readonly spelling: SqlSpelling
  /**
   * One statement with its parameters: the rows it returns (a write's only with RETURNING). A hot or
   * one-shot statement gives its `name`, which always means one text: PostgreSQL keeps it prepared
   * under that name on each connection (parsed and planned once, not at every call: most of a claim's
   * server time). SQLite keeps every statement prepared, by its text. Once a backend's Kysely is loaded,
   * a statement outside a transaction still takes its turn on SQLite's one connection (it would
   * otherwise join a transaction in flight there).
   */
  query<R>(text: string, values: readonly unknown[], name?: string): Promise<R[]>
}

/**
 * Where statements run: the backend itself, or one of its transactions. Both ways of writing a
 * statement — Kysely's builder (`db`) for cold paths, written-out SQL (`query`) for hot and one-shot
 * ones — on the same connection, so each reads what the other wrote.
 */
export interface Session extends SqlRunner {
  readonly db: Kysely<Database>
}

/** A statement's text, built once per dialect (its spelling) and name: a hot path builds no strings. */
export function statement(runner: Pick<SqlRunner, 'spelling'>, name: string, build: () => string): string {
  let texts = TEXTS.get(runner.spelling)
  if (!texts) TEXTS.set(runner.spelling, (texts = new Map()))
  let text = texts.get(name)
  if (text === undefined) texts.set(name, (text = build()))
  return text
}

const TEXTS = new WeakMap<SqlSpelling, Map<string, string>>()

/** Each call gives the next parameter of a statement (`?` on SQLite are numbered by position). */
export function parameters(spelling: SqlSpelling): () => string {
  let n = 0
  return () => spelling.param(++n)
}

/** The connection: which database, its Kysely handle, whether it is still the one users reach. */
export interface BackendConnection {
  readonly name: BackendName
  readonly db: Kysely<Database>
  /** The URL with any password replaced by ***, for display. */
  readonly displayUrl: string
  /**
   * Throws a StorageError when the database this handle writes to is no longer the one users reach.
   * SQLite: the file was deleted or replaced while open (writes would go to an unlinked inode while
   * `sq list` created a new empty file). PostgreSQL: never.
   */
  assertIntact(): void
  close(): Promise<void>
  /** Normalises a timestamp read from the database to an ISO-8601 UTC string (null stays null). */
  toIso(value: Date | string): string
  toIso(value: Date | string | null): string | null
}

/** The database's clock for Kysely's builder: SqlSpelling's, as fragments (backends/clock.ts). */
export interface SqlFragments {
  /** SqlSpelling.now. */
  now(): RawBuilder<string>
  /** The database's current time plus (or minus) some seconds: a number, or a column of a batch. */
  nowPlusSeconds(seconds: number | Expression<number>): RawBuilder<string>
  /**
   * Is a WHERE term that names no column of the query's tables (`NOT EXISTS (SELECT … FROM other)`)
   * evaluated once, before any row is read? PostgreSQL: yes, an InitPlan and a One-Time Filter. SQLite:
   * no, it caches the subquery but still tests it at every row of the scan. (The claim's paused-queue gate.)
   */
  readonly gatesBeforeScan: boolean
}

/** Column types of the schema (the migrations read them). */
export interface DdlTypes {
  /** Column type of timestamps: timestamptz on PostgreSQL, ISO-8601 text on SQLite (see task-row.ts). */
  readonly timestampType: 'timestamptz' | 'text'
  /** Auto-incrementing integer primary key type for the chunk table. */
  readonly serialType: 'bigserial' | 'integer'
  /**
   * What a task id is cast to where a statement reads ids from its JSON rows: PostgreSQL stores them
   * as uuid (migration 007), which compares with no text; SQLite as text.
   */
  readonly idType: 'uuid' | 'text'
}

/** How writes take their turn. */
export interface Transactions {
  /**
   * Whether a write transaction left open holds back no other writer. PostgreSQL: yes (it locks only
   * its rows), so a bulk enqueue writes its first chunk while it checks the rest (Queue.enqueueMany).
   * SQLite: no, it holds the database's one write lock meanwhile.
   */
  readonly concurrentWriters: boolean
  /**
   * A write transaction that waits its turn. PostgreSQL: an ordinary transaction. SQLite: `BEGIN
   * IMMEDIATE` on the one connection, so the write lock is taken up front and honours busy_timeout
   * (a plain BEGIN takes it on first write and can fail at once with "database is locked").
   */
  writeTransaction<T>(fn: (trx: Session) => Promise<T>): Promise<T>
  /**
   * Runs ONE write statement that must hold the write lock from its start. PostgreSQL: the statement
   * alone (autocommit makes it atomic; a BEGIN/COMMIT pair would add two round trips to every claim).
   * SQLite: inside BEGIN IMMEDIATE, as writeTransaction.
   */
  exclusive<T>(fn: (trx: Session) => Promise<T>): Promise<T>
  /**
   * Like `exclusive`, for a claim. PostgreSQL: on a pool of its own that keeps one connection open, so an
   * idle worker's pickup never waits for a new one. Its commit waits for the WAL flush like any other: a
   * claim a crash undid would be claimed again after its task had run, and a finished run would run
   * twice (the chaos soak's `restart -m immediate` did it). SQLite: `exclusive`.
   */
  claim<T>(fn: (trx: Session) => Promise<T>): Promise<T>
}

/** How a batch of new tasks is written when no row of it can lose to another. */
export interface BulkLoad {
  /**
   * Writes new tasks in their order in one transaction, when none holds a key and all may run now
   * (bulk-insert.ts decides): no row can conflict, and the server's defaults give every timestamp.
   * With `beforeCommit`, the rows wait for it uncommitted, and are rolled back if it rejects.
   * PostgreSQL: COPY (backends/pg-copy.ts), which skips the JSON parse and the executor's work per row
   * of INSERT … SELECT. null where that INSERT is as fast as it gets (SQLite: one process, no protocol).
   */
  readonly copyNewTasks: ((rows: readonly NewTask[], beforeCommit?: Promise<void>) => Promise<void>) | null
}

/** How a process learns that others changed the queue. */
export interface Notifications {
  /**
   * What `listen` hears — the one place that says SQLite has no LISTEN.
   * - 'changes' (PostgreSQL): LISTEN. A trigger (migration 002) notifies `sq_queued` (payload: queue),
   *   `sq_ended` and `sq_cancel` (payload: task id) on every status change, with no extra round trip;
   *   an insert notifies `sq_queued` itself (announceQueued).
   * - 'commits' (SQLite): a hint, not a message. Any commit to the file by any process — a heartbeat
   *   as much as an enqueue — calls every handler with an empty payload (fs.watch on the WAL), and a
   *   filesystem where fs.watch sees nothing (a network mount) calls none: listeners re-read what they
   *   care about, and keep a slow poll.
   */
  readonly hears: 'changes' | 'commits'
  /**
   * Calls `onMessage` on each notification (see `hears`), until the returned function is called.
   * PostgreSQL's connection comes back by itself after a server restart, and then calls every handler
   * once with an empty payload (what was missed meanwhile).
   */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>
  /**
   * Tells the listeners of `sq_queued` which queues a write has just queued tasks in, inside its
   * transaction (delivered at its commit, once the rows are visible). Every INSERT of tasks calls it, or
   * is spelled with SqlSpelling.announcingQueue. PostgreSQL: one pg_notify per queue (an insert trigger
   * did it until migration 008: its capture of every new row cost a bulk insert ~9%). SQLite: nothing,
   * any commit wakes its listeners.
   */
  announceQueued(trx: SqlRunner, queues: readonly string[]): Promise<void> // each queue once (queuesOf)
}

/** What a driver's error means. */
export interface ErrorClassification {
  /**
   * Did the database refuse the statement for what it holds (a value out of range, too big, a
   * constraint), so that writing it again cannot help? Anything else — a connection lost, a server
   * restarting, SQLite's disk full or busy — is an outage, waited out and written again.
   */
  isRefusal(error: unknown): boolean
  /** Was the statement refused for a table that is not there (a database sq never migrated)? */
  isMissingTable(error: unknown): boolean
}

/**
 * `toIso` for a backend from how it converts one non-null value: null handling, and the overloads
 * that let callers keep a non-null type, written once.
 */
export function isoReader(convert: (value: Date | string) => string): BackendConnection['toIso'] {
  function toIso(value: Date | string): string
  function toIso(value: Date | string | null): string | null
  function toIso(value: Date | string | null): string | null {
    return value === null ? null : convert(value)
  }
  return toIso
}

/**
 * A connection's whole backend, loaded on first use (Connection.backend): `load` runs once; `loaded` is
 * the backend once it has; closing closes it (which closes the driver too), or only the driver when it
 * never loaded.
 */
export function lazyBackend(load: () => Promise<Backend>, closeDriver: () => unknown) {
  let loading: Promise<Backend> | undefined
  const whole = {
    loaded: undefined as Backend | undefined,
    backend: () => (loading ??= load().then((backend) => (whole.loaded = backend))),
    async close(): Promise<void> {
      const loaded = await loading?.catch(() => undefined)
      if (loaded) await loaded.close()
      else await closeDriver()
    },
  }
  return whole
}
