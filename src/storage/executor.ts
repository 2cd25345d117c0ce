import { CompiledQuery } from 'kysely'
import { StorageError } from '../errors.js'
import { type Backend, runNative, type SqlRunner } from './backend.js'
import type { BulkWriter } from './bulk-insert.js'

/**
 * The app's connection or transaction, to enqueue a task that exists iff it commits. Typed by shape, naming no driver:
 * a `pg` client or any `{ query(text, values) }` resolving to `{ rows }` or the rows, a Kysely instance or transaction,
 * or a better-sqlite3 Database on the queue's own file.
 */
export type Executor = QueryClient | KyselyLike | BetterSqliteLike

/** A `pg` Client or PoolClient, or any client that runs one statement with its parameters. */
export interface QueryClient {
  query(text: string, values: unknown[]): Promise<unknown>
}

/** A Kysely instance or transaction, of any version (`never`: any Kysely's CompiledQuery type fits). */
export interface KyselyLike {
  executeQuery(query: never): Promise<{ rows: unknown[] }>
}

/** A better-sqlite3 Database. */
export interface BetterSqliteLike {
  prepare(source: string): {
    readonly reader: boolean
    all(...parameters: unknown[]): unknown[]
    run(...parameters: unknown[]): unknown
  }
  pragma(source: string, options?: { simple?: boolean }): unknown
}

const ACCEPTED =
  'a pg Client or PoolClient, a Kysely instance or transaction, a better-sqlite3 Database, or an object with query(text, values)'

type Run = (text: string, parameters: readonly unknown[]) => Promise<unknown[]>

/** How to run one statement on an executor, by its shape; a TypeError for a shape sq does not know. */
function runnerOf(executor: unknown): Run {
  const e = executor as Record<string, unknown> | null
  if (typeof e?.executeQuery === 'function') {
    const kysely = e as unknown as { executeQuery(query: CompiledQuery): Promise<{ rows: unknown[] }> }
    return async (text, parameters) => (await kysely.executeQuery(CompiledQuery.raw(text, [...parameters]))).rows
  }
  if (typeof e?.prepare === 'function' && typeof e.pragma === 'function') {
    return async (text, parameters) => runNative(e as unknown as BetterSqliteLike, text, parameters)
  }
  if (typeof e?.query === 'function') {
    const client = e as unknown as QueryClient
    return async (text, parameters) => {
      const result = (await client.query(text, [...parameters])) as { rows?: unknown[] } | unknown[]
      return Array.isArray(result) ? result : (result?.rows ?? [])
    }
  }
  throw new TypeError(`executor must be ${ACCEPTED}; got ${describe(executor)}`)
}

const describe = (value: unknown) =>
  value === null ? 'null' : typeof value === 'object' ? `an object without those methods` : `a ${typeof value}`

/** Per queue handle, the check of each executor object (bound to one database for its life). */
const checked = new WeakMap<object, WeakMap<object, Promise<void>>>()

/**
 * The queue's statements inside the app's transaction: a runner (insertTask) and a batch writer. Throws
 * before writing when the executor reaches another database, or one without sq's tables.
 */
export async function onExecutor(
  backend: Backend,
  executor: Executor,
): Promise<{ runner: SqlRunner; writer: BulkWriter }> {
  const unwrapped = runnerOf(executor)
  // The driver's own error (a closed connection, an aborted transaction) passed through as sq's.
  const run: Run = (text, parameters) =>
    unwrapped(text, parameters).catch((error) => {
      throw new StorageError(`database error on the executor: ${error?.message ?? String(error)}`, { cause: error })
    })
  let ofQueue = checked.get(backend.db)
  if (!ofQueue) checked.set(backend.db, (ofQueue = new WeakMap()))
  let check = ofQueue.get(executor)
  if (!check) {
    check = sameDatabase(backend, run)
    ofQueue.set(executor, check)
    check.catch(() => ofQueue.delete(executor))
  }
  await check
  // The statement's name is for a connection of sq's own (kept prepared): none on the app's.
  const runner: SqlRunner = { spelling: backend.spelling, query: run as SqlRunner['query'] }
  // No COPY: it would need the driver's own stream API, which an executor need not have.
  return { runner, writer: { ...backend, copyNewTasks: null, writeTransaction: (fn) => fn(runner) } }
}

type Place = { place: string; migrated: boolean | number }

async function sameDatabase(queue: SqlRunner & { displayUrl: string }, run: Run): Promise<void> {
  const [ours] = await queue.query<Place>(queue.spelling.placeQuery, [])
  const [theirs] = (await run(queue.spelling.placeQuery, [])) as Place[]
  if (!theirs || String(theirs.place) !== String(ours?.place))
    throw new StorageError(
      `the executor is connected to another database (${theirs?.place ?? 'unknown'}) than the queue's (${queue.displayUrl}); nothing was written`,
    )
  if (!theirs.migrated)
    throw new StorageError(
      `sq's tables are not in the executor's database as its connection sees it: run \`sq migrate\` against ${queue.displayUrl} first (sq never migrates inside your transaction)`,
    )
}
