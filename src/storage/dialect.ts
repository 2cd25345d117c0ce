import type { Expression, Kysely, RawBuilder, SelectQueryBuilder } from 'kysely'
import type { Database } from './schema.js'

export type DialectName = 'sqlite' | 'postgres'

/**
 * The seam between SQLite and PostgreSQL: one named member per difference, each with its reason.
 * Everything else — every query of the repositories — is written once, in Kysely, for both.
 */
export interface Dialect {
  readonly name: DialectName
  readonly db: Kysely<Database>
  /** The URL with any password replaced by ***, for display. */
  readonly displayUrl: string

  /** Column type of timestamps: timestamptz on PostgreSQL, ISO-8601 text on SQLite (see schema.ts). */
  readonly timestampType: 'timestamptz' | 'text'
  /** Auto-incrementing integer primary key type for the chunk table. */
  readonly serialType: 'bigserial' | 'integer'

  /** The database's current time, so that every host judges heartbeats by one clock. */
  now(): RawBuilder<string>
  /** The database's current time plus (or minus) some seconds: a number, or a column of a batch. */
  nowPlusSeconds(seconds: number | Expression<number>): RawBuilder<string>
  /** Normalises a timestamp read from the database to an ISO-8601 UTC string. */
  toIso(value: Date | string): string
  toIso(value: Date | string | null): string | null

  /**
   * A write transaction that waits its turn. PostgreSQL: an ordinary transaction. SQLite: `BEGIN
   * IMMEDIATE` on the one connection, so the write lock is taken up front and honours busy_timeout
   * (a plain BEGIN takes it on first write and can fail at once with "database is locked").
   */
  writeTransaction<T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T>

  /**
   * Runs ONE write statement that must hold the write lock from its start. PostgreSQL: the statement
   * alone (autocommit makes it atomic; a BEGIN/COMMIT pair would add two round trips to every claim).
   * SQLite: inside BEGIN IMMEDIATE, as writeTransaction.
   */
  exclusive<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T>

  /**
   * Like `exclusive`, for a claim: a write that a crash of the database may undo without harm (the task
   * is only claimed again). PostgreSQL: on a connection with synchronous_commit off, so that the claim
   * does not wait for the WAL flush (1–3 ms, most of an idle worker's pickup). SQLite: `exclusive`.
   */
  claim<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T>

  /**
   * Makes the claim's inner SELECT skip rows other claimers hold. PostgreSQL: FOR UPDATE SKIP LOCKED.
   * SQLite has neither and needs neither: it has one writer at a time, so the claim's UPDATE, run in
   * an IMMEDIATE transaction, sees no competing claim.
   */
  lockForClaim<O>(query: SelectQueryBuilder<Database, 'sq_tasks', O>): SelectQueryBuilder<Database, 'sq_tasks', O>

  /**
   * Calls `onMessage` on each notification, until the returned function is called. PostgreSQL: LISTEN;
   * a trigger (migration 002) notifies `sq_queued` (payload: queue), `sq_ended` and `sq_cancel`
   * (payload: task id) on every status change, with no extra round trip; the connection comes back by
   * itself after a server restart, and then calls every handler once (what was missed meanwhile).
   * SQLite: a hint, not a message — any commit to the file by any process calls every handler with
   * an empty payload (fs.watch on the WAL); the listener re-reads what it cares about.
   */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>
  /** True when polling is the only way to learn of changes (SQLite). */
  readonly needsPolling: boolean

  /**
   * Is a WHERE term that names no column of the query's tables (`NOT EXISTS (SELECT … FROM other)`)
   * evaluated once, before any row is read? PostgreSQL: yes, an InitPlan and a One-Time Filter. SQLite:
   * no, it caches the subquery but still tests it at every row of the scan. (The claim's paused-queue gate.)
   */
  readonly gatesBeforeScan: boolean

  /**
   * Throws a StorageError when the database this handle writes to is no longer the one users reach.
   * SQLite: the file was deleted or replaced while open (writes would go to an unlinked inode while
   * `sq list` created a new empty file). PostgreSQL: never.
   */
  assertIntact(): void

  /** Was this error a unique-constraint violation? */
  isUniqueViolation(error: unknown): boolean

  close(): Promise<void>
}
