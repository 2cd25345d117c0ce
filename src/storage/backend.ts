import type { Expression, Kysely, RawBuilder } from 'kysely'
import type { BetterSqliteLike } from './executor.js'
import type { Database } from './schema.js'
import type { NewTask } from './task-repository.js'

export type BackendName = 'sqlite' | 'postgres'

/** The database before Kysely, which costs a one-shot command as much as its insert: `backend()` loads it. */
export interface Connection extends SqlRunner {
  readonly name: BackendName
  /** The URL with any password replaced by ***. */
  readonly displayUrl: string
  backend(): Promise<Backend>
  /** Refused for what it holds (out of range, a constraint)? Else an outage, waited out and written again. */
  isRefusal(error: unknown): boolean
  /** Was the statement refused for a table that is not there (a database sq never migrated)? */
  isMissingTable(error: unknown): boolean
  /** Throws a StorageError when SQLite's file was deleted or replaced while open: writes would be lost. */
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
  /** Is a WHERE term naming no column (the claim's paused gate) tested once, before the scan? SQLite: per row. */
  readonly gatesBeforeScan: boolean
  /**
   * Whether an open write transaction leaves other writers free: PostgreSQL's locks its rows only, so a bulk
   * enqueue writes its first chunk while it checks the rest; SQLite's holds the one write lock.
   */
  readonly concurrentWriters: boolean
  /**
   * A write transaction that waits its turn. SQLite: `BEGIN IMMEDIATE`, so the lock is taken up front and
   * honours busy_timeout (a plain BEGIN takes it on first write and can fail at once, "database is locked").
   */
  writeTransaction<T>(fn: (trx: Session) => Promise<T>): Promise<T>
  /** ONE write statement holding the write lock from its start: alone on PostgreSQL (autocommit is atomic). */
  exclusive<T>(fn: (trx: Session) => Promise<T>): Promise<T>
  /**
   * `exclusive`, for a claim; PostgreSQL's on the kept connection, so a pickup never waits for a new one.
   * Its commit waits for the WAL flush: a claim a crash undid would be claimed again after its task ran.
   */
  claim<T>(fn: (trx: SqlRunner) => Promise<T>): Promise<T>
  /**
   * The one connection an idle worker holds, for its looks, heartbeats, surveys and claims: PostgreSQL's
   * LISTEN connection (reconnected when lost; the pool's close once idle), or with a listenUrl the pool
   * (through the pooler; the direct LISTEN connection carries nothing else). SQLite: the backend.
   */
  readonly kept: SqlRunner
  /**
   * Writes unkeyed tasks that run now in one transaction, rolled back if `beforeCommit` rejects (bulk-insert.ts).
   * PostgreSQL: COPY, which skips INSERT … SELECT's JSON parse. null on SQLite: no protocol to skip.
   */
  readonly copyNewTasks: ((rows: readonly NewTask[], beforeCommit?: Promise<void>) => Promise<void>) | null
  /**
   * What `listen` hears. 'changes' (PostgreSQL): `sq_queued` (payload: queue), `sq_ended` and `sq_cancel`
   * (payload: task id) on every status change (migration 002), `sq_queued` per insert (`queue count`, and
   * a single insert's id). 'commits' (SQLite, no LISTEN): a hint, '' on any commit (fs.watch on the WAL;
   * none on a network mount): listeners re-read, and keep a slow poll.
   */
  readonly hears: 'changes' | 'commits'
  /** Whether notifications can arrive now: PostgreSQL's LISTEN connection is up, SQLite's -wal is watched. */
  hearing(): boolean
  /**
   * Until the returned function is called. PostgreSQL's calls every handler with '' after a reconnect.
   * `shared`: through one LISTEN connection per host for the processes that ask so (pg-relay.ts: workers).
   */
  listen(
    channel: string,
    onMessage: (payload: string) => void,
    o?: { shared?: SharedListen },
  ): Promise<() => Promise<void>>
  /**
   * Tells `sq_queued`, in the write's transaction, how many tasks it queued per queue: every INSERT of tasks
   * calls it or uses SqlSpelling.announcingQueue. PostgreSQL: a pg_notify per queue (a trigger capturing
   * every new row cost a bulk insert ~9%). SQLite: nothing, any commit wakes.
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
   * One row: `place`, equal on two connections iff they reach one database, and `migrated`, whether sq's
   * tables are seen, without an error that would abort the transaction (executor.ts).
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
  /** Ends a claim's pick (and a purge's) to skip rows others hold; SQLite's IMMEDIATE claim is the one writer. */
  readonly lockForClaim: string
  /**
   * What a claimed row returns to break its pick's ties. SQLite: `rowid`, the last key of every index entry.
   * PostgreSQL: its number in the pick, by UPDATE … FROM (a heap position is no order).
   */
  readonly claimTieBreak: 'rowid' | 'pick-number'
  /**
   * A FROM item reading a random sample of sq_tasks (a few hundred pages' worth at any size), and `scale`, an
   * expression: how many tasks each sampled one stands for. For counts too large to count at each read.
   */
  readonly taskSample: { readonly from: string; readonly scale: string }
  /** Follows `"sq_tasks"` to read through sq_tasks_claim: SQLite, without statistics, would walk the status index. */
  readonly viaClaimIndex: string
}

/** Runs statements written out as SQL: a Connection, a Backend, or one of its transactions. */
export interface SqlRunner {
  readonly spelling: SqlSpelling
  /**
   * One statement's rows. A hot or one-shot one gives its `name` (always one text), which PostgreSQL keeps
   * prepared per connection (planning is most of a claim's server time).
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

/** A statement's text, built once per spelling and name; each call of `p` gives the next parameter. */
export function statement(runner: Pick<SqlRunner, 'spelling'>, name: string, build: (p: () => string) => string) {
  let texts = TEXTS.get(runner.spelling)
  if (!texts) TEXTS.set(runner.spelling, (texts = new Map()))
  let text = texts.get(name)
  let n = 0
  if (text === undefined) texts.set(name, (text = build(() => runner.spelling.param(++n))))
  return text
}

const TEXTS = new WeakMap<SqlSpelling, Map<string, string>>()

/**
 * A listener of the host's one LISTEN connection: `as` names it to the process that holds the connection,
 * which passes a payload on only to those its `isFor` (when given) picks, and to all when '' (a loss).
 */
export interface SharedListen {
  as: string
  isFor?(payload: string, as: string): boolean
}

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
