import type { Expression, Kysely, RawBuilder } from 'kysely'
import type { BetterSqliteLike } from './executor.js'
import type { Database } from './schema.js'
import type { NewTask } from './task-repository.js'

export type BackendName = 'sqlite' | 'postgres'

/**
 * The database before Kysely, all a one-shot command (`sq enqueue`, `show`) needs: loading Kysely costs
 * it about as much as its insert, so `backend()` loads it on first use, on the same driver connection.
 */
export interface Connection extends SqlRunner {
  readonly name: BackendName
  /** The URL with any password replaced by ***. */
  readonly displayUrl: string
  backend(): Promise<Backend>
  /**
   * Did the database refuse the statement for what it holds (a value out of range, a constraint)? Else
   * (a connection lost, SQLite's disk full or busy) it is an outage, waited out and written again.
   */
  isRefusal(error: unknown): boolean
  /** Was the statement refused for a table that is not there (a database sq never migrated)? */
  isMissingTable(error: unknown): boolean
  /**
   * Throws a StorageError when the database this handle writes to is no longer the one users reach:
   * SQLite's file deleted or replaced while open (writes would go to an unlinked inode).
   */
  assertIntact(): void
  close(): Promise<void>
  /** A timestamp read from the database as an ISO-8601 UTC string (null stays null). */
  toIso(value: Date | string): string
  toIso(value: Date | string | null): string | null
}

/**
 * The seam between SQLite and PostgreSQL, one member per difference: every query is written once for
 * both, in Kysely on cold paths, as SQL through `query` on hot and one-shot ones.
 */
export interface Backend extends Omit<Connection, 'backend'>, Session, DdlTypes {
  /** SqlSpelling's clock as fragments for Kysely's builder (backends/clock.ts). */
  now(): RawBuilder<string>
  nowPlusSeconds(seconds: number | Expression<number>): RawBuilder<string>
  /**
   * Is a WHERE term that names no column of the query's tables (the claim's paused-queue gate) evaluated
   * once, before any row is read? PostgreSQL: yes. SQLite: no, at every row of the scan.
   */
  readonly gatesBeforeScan: boolean
  /**
   * Whether a write transaction left open holds back no other writer. PostgreSQL: yes (it locks only its
   * rows), so a bulk enqueue writes its first chunk while it checks the rest (enqueue-many.ts). SQLite:
   * no, it holds the database's one write lock.
   */
  readonly concurrentWriters: boolean
  /**
   * A write transaction that waits its turn. SQLite: `BEGIN IMMEDIATE`, so the lock is taken up front and
   * honours busy_timeout (a plain BEGIN takes it on first write and can fail at once, "database is locked").
   */
  writeTransaction<T>(fn: (trx: Session) => Promise<T>): Promise<T>
  /**
   * ONE write statement that must hold the write lock from its start. PostgreSQL: the statement alone
   * (autocommit makes it atomic, without BEGIN/COMMIT's two round trips). SQLite: as writeTransaction.
   */
  exclusive<T>(fn: (trx: Session) => Promise<T>): Promise<T>
  /**
   * `exclusive`, for a claim. PostgreSQL: on the kept connection, so an idle worker's pickup never waits
   * for a new one. Its commit waits for the WAL flush like any other: a claim a crash undid would be
   * claimed again after its task had run (the chaos soak's `restart -m immediate`).
   */
  claim<T>(fn: (trx: SqlRunner) => Promise<T>): Promise<T>
  /**
   * What a worker does while idle — its looks, heartbeats, surveys and claims — on one connection it
   * keeps open, so that an idle worker holds one: PostgreSQL's LISTEN connection (reconnected when
   * lost; the pool's connections close once idle). SQLite: the backend.
   */
  readonly kept: SqlRunner
  /**
   * Writes new tasks in order in one transaction when none holds a key and all may run now (bulk-insert.ts):
   * no row can conflict, the server's defaults give every timestamp; rolled back if `beforeCommit` rejects.
   * PostgreSQL: COPY, which skips INSERT … SELECT's JSON parse. null on SQLite: no protocol to skip.
   */
  readonly copyNewTasks: ((rows: readonly NewTask[], beforeCommit?: Promise<void>) => Promise<void>) | null
  /**
   * What `listen` hears; the one place that says SQLite has no LISTEN.
   * - 'changes' (PostgreSQL): `sq_queued` (payload: queue), `sq_ended` and `sq_cancel` (payload: task id)
   *   on every status change (migration 002's trigger), `sq_queued` on an insert with how many tasks it
   *   queued there (payload: `queue count`, and a single insert's task id).
   * - 'commits' (SQLite): a hint. Any commit to the file calls every handler with '' (fs.watch on the
   *   WAL), a network mount none: listeners re-read what they care about, and keep a slow poll.
   */
  readonly hears: 'changes' | 'commits'
  /** Whether notifications can arrive now: PostgreSQL's LISTEN connection is up, SQLite's -wal is watched. */
  hearing(): boolean
  /** Until the returned function is called. PostgreSQL's calls every handler with '' after a reconnect. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>
  /**
   * Tells `sq_queued` how many tasks a write has just queued in each queue (queueCounts), inside its
   * transaction (delivered at its commit). Every INSERT of tasks calls it or is spelled with
   * SqlSpelling.announcingQueue. PostgreSQL: one pg_notify per queue (not a trigger: its capture of every
   * new row cost a bulk insert ~9%). SQLite: nothing, any commit wakes.
   */
  announceQueued(trx: SqlRunner, counts: ReadonlyMap<string, number>): Promise<void>
}

/** How each database spells what the statements written out as SQL need. */
export interface SqlSpelling {
  /** The n-th parameter, from 1: `?` on SQLite, `$n` on PostgreSQL. */
  param(n: number): string
  /** The database's current time, so that every host judges heartbeats by one clock. */
  readonly now: string
  nowPlusSeconds(seconds: string): string
  /** The current time in ms since the epoch, a number with what it has of sub-ms precision. */
  readonly nowMs: string
  /** An INSERT of one task as one statement that also announces its queue (Backend.announceQueued). */
  announcingQueue(insert: string): string
  /**
   * One row: `place`, text equal on two connections if and only if they reach the same database, and
   * `migrated`, whether that connection sees sq's tables, without an error that would abort its
   * transaction (executor.ts).
   */
  readonly placeQuery: string
  /**
   * A FROM item `r` over a JSON array of arrays given as ONE parameter, `r.value ->> i` a field (text or
   * NULL; cast it): one text for any number of rows, kept prepared. PostgreSQL parses it once, as jsonb.
   */
  jsonRows(parameter: string): string
  /** jsonRows in the array's order, to end a SELECT (a bulk insert's). */
  orderedJsonRows(parameter: string): string
  /** An expression read from JSON rows as a column's type: PostgreSQL casts it; SQLite needs no cast. */
  cast(expression: string, type?: string): string
  /**
   * Ends the claim's pick (and a purge's batch) so that it skips rows other claimers hold: FOR UPDATE
   * SKIP LOCKED. SQLite needs none: the claim's IMMEDIATE transaction is the one writer.
   */
  readonly lockForClaim: string
  /**
   * What a claimed row returns to break the ties of its pick (run-repository.ts). SQLite: `rowid`, the
   * last key of every index entry, so the pick broke ties by it. PostgreSQL: the row's number in the pick,
   * through UPDATE … FROM (SQLite's RETURNING may not name its columns); a heap position is no order.
   */
  readonly claimTieBreak: 'rowid' | 'pick-number'
}

/** Runs statements written out as SQL: a Connection, a Backend, or one of its transactions. */
export interface SqlRunner {
  readonly spelling: SqlSpelling
  /**
   * One statement's rows. A hot or one-shot statement gives its `name` (always one text): PostgreSQL
   * keeps it prepared per connection (planning is most of a claim's server time); SQLite prepares every
   * text. Once Kysely is loaded, SQLite's statement takes its turn rather than join a transaction.
   */
  query<R>(text: string, values: readonly unknown[], name?: string): Promise<R[]>
}

/** The backend or one of its transactions: Kysely (`db`) and written-out SQL on one connection. */
export interface Session extends SqlRunner {
  readonly db: Kysely<Database>
}

/** Column types of the schema (the migrations read them). */
export interface DdlTypes {
  /** timestamptz on PostgreSQL, ISO-8601 text on SQLite (see task-row.ts). */
  readonly timestampType: 'timestamptz' | 'text'
  /** The chunk table's auto-incrementing key. */
  readonly serialType: 'bigserial' | 'integer'
  /** What a task id read from JSON rows is cast to: PostgreSQL's is uuid (migration 007), unlike text. */
  readonly idType: 'uuid' | 'text'
}

/**
 * A statement's text, built once per spelling and name: a hot path builds no strings. Each call of `p`
 * gives the next parameter (`?` on SQLite are numbered by position).
 */
export function statement(runner: Pick<SqlRunner, 'spelling'>, name: string, build: (p: () => string) => string) {
  let texts = TEXTS.get(runner.spelling)
  if (!texts) TEXTS.set(runner.spelling, (texts = new Map()))
  let text = texts.get(name)
  let n = 0
  if (text === undefined) texts.set(name, (text = build(() => runner.spelling.param(++n))))
  return text
}

const TEXTS = new WeakMap<SqlSpelling, Map<string, string>>()

/** Runs the statement `name`, its text from `statement`: kept prepared on PostgreSQL (SqlRunner.query). */
export function runStatement<R>(
  runner: SqlRunner,
  name: string,
  build: (p: () => string) => string,
  values: readonly unknown[],
): Promise<R[]> {
  return runner.query<R>(statement(runner, name, build), values, name)
}

/** One statement run at once on a better-sqlite3 handle: sq's own (its statements cached), or an app's. */
export function runNative<R>(sqlite: Pick<BetterSqliteLike, 'prepare'>, text: string, values: readonly unknown[]) {
  const statement = sqlite.prepare(text)
  if (statement.reader) return statement.all(...values) as R[]
  statement.run(...values)
  return []
}

/** `toIso` from how a backend converts one non-null value. */
export function isoReader(convert: (value: Date | string) => string): Connection['toIso'] {
  function toIso(value: Date | string): string
  function toIso(value: Date | string | null): string | null
  function toIso(value: Date | string | null): string | null {
    return value === null ? null : convert(value)
  }
  return toIso
}

/** A connection's backend, loaded once on first use; closing closes it, or the driver if it never loaded. */
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
