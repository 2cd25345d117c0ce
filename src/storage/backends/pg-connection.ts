import type { Client, Pool, PoolClient } from 'pg'
import { StorageError } from '../../errors.js'
import { redactSecrets } from '../../redact.js'
import { isoReader, lazyBackend, type Connection, type SqlSpelling } from '../backend.js'
import { pg } from './pg-driver.js'

/** The share of sq_tasks' pages a sample reads, in percent: ~500 pages. */
const SAMPLED_PERCENT = `(select least(100, 50000.0 / greatest("relpages", 1)) from pg_class where "oid" = to_regclass('sq_tasks'))`

const PG_SPELLING: SqlSpelling = {
  param: (n) => `$${n}`,
  // The transaction's start: every statement of sq is its own short transaction, or one of a few.
  now: 'now()',
  nowMs: 'cast(extract(epoch from now()) * 1000 as double precision)',
  nowPlusSeconds: (seconds) => `now() + make_interval(secs => cast(${seconds} as double precision))`,
  // The task id makes each insert's payload distinct: a transaction's identical payloads arrive as one.
  announcingQueue: (insert) =>
    `with "new" as (${insert} returning "queue", "id") select pg_notify('sq_queued', "queue" || ' 1 ' || "id") from "new"`,
  // The server by its port and start time: its system identifier is for superusers only, and its
  // address differs between a socket and TCP. to_regclass is null, not an error, for a missing table.
  placeQuery: `select current_database() || ' (port ' || current_setting('port') || ', up since ' || pg_postmaster_start_time() || ')' as "place", to_regclass('sq_tasks') is not null as "migrated"`,
  jsonRows: (parameter) => `jsonb_array_elements(cast(${parameter} as jsonb)) as r(value)`,
  cast: (expression, type) => (type ? `cast(${expression} as ${type})` : expression),
  // jsonb, parsed once: 5,000 rows cost the server 9 ms of CPU, not json's 24.
  orderedJsonRows: (parameter) =>
    `jsonb_array_elements(cast(${parameter} as jsonb)) with ordinality as r(value, n) order by r.n`,
  lockForClaim: ' for update skip locked',
  claimTieBreak: 'pick-number',
  // SYSTEM: whole pages, ~500 of them (all of a table never vacuumed nor analyzed: relpages 0).
  viaClaimIndex: '',
  taskSample: {
    from: `"sq_tasks" tablesample system (${SAMPLED_PERCENT})`,
    scale: `(100.0 / ${SAMPLED_PERCENT})`,
  },
}

/** Notifies `sq_queued` of each queue of the array $1 with its count in $2 (Backend.announceQueued). */
export const ANNOUNCE_QUEUED = `select pg_notify('sq_queued', "q" || ' ' || "n") from unnest(cast($1 as text[]), cast($2 as integer[])) as "c"("q", "n")`
export const announcedValues = (counts: ReadonlyMap<string, number>) => [[...counts.keys()], [...counts.values()]]

/** Settings.listenUrl and Settings.preparedStatements. */
export interface PgOptions {
  listenUrl?: string | null
  preparedStatements?: boolean
}

/** The URL's password is registered for redaction when the URL is parsed (parseDatabaseUrl). */
export function openPostgres(url: string, o: PgOptions = {}): Connection {
  const run = o.preparedStatements === false ? unnamed : pgQuery
  const pool = new pg.Pool({ connectionTimeoutMillis: 10_000, connectionString: url, max: 10 })
  // Survives its server: an unheard 'error' of a lost client would crash the worker at a restart.
  pool.on('error', () => {})
  pool.on('connect', (client) => {
    client.on('error', () => {})
  })
  const whole = lazyBackend(
    () =>
      import('./postgres.js').then((m) =>
        m.postgresBackend(connection, pool, { url, listenUrl: o.listenUrl ?? null, run }),
      ),
    () => pool.end(),
  )
  const connection: Connection = {
    name: 'postgres',
    displayUrl: redactSecrets(url),
    spelling: PG_SPELLING,
    // On the pool, as the whole backend does once loaded: the pool gives each statement a connection,
    // so none joins another's transaction.
    query: (text, values, name) => run(pool, text, values, name),
    assertIntact: () => {},
    backend: whole.backend,
    close: whole.close,
    toIso: isoReader((value) => new Date(value).toISOString()),
    // SQLSTATE classes 22 (data exception), 23 (integrity constraint), 54 (program limit exceeded).
    isRefusal: (error) => /^(22|23|54)/.test(String((error as { code?: unknown })?.code)),
    isMissingTable: (error) => (error as { code?: unknown })?.code === '42P01',
  }
  return connection
}

/** How a connection runs statements: pgQuery, or `unnamed` (Settings.preparedStatements false). */
export type PgRun = typeof pgQuery

/**
 * Every statement unnamed, for PgBouncer < 1.21 in transaction mode: a statement prepared on one server
 * connection is unknown on the next, and a name two clients prepared is taken twice on one.
 */
const unnamed: PgRun = (on, text, values) => pgQuery(on, text, values)

/** SQLSTATE of "cached plan must not change result type". */
const STALE_PREPARED_STATEMENT = '0A000'

/** Each name's text: a name is prepared once per connection, so it must never mean two texts. */
const texts = new Map<string, string>()
/** Part of every name on the server; a new one prepares every statement anew (see pgQuery). */
let generation = 0

/**
 * One statement on the pool or a client, a named one prepared per connection. One a newer sq's migration made stale is
 * refused before it runs: prepared anew under a new name (an aborted transaction is written again by its caller).
 */
export async function pgQuery<R>(
  on: Pool | Client,
  text: string,
  values: readonly unknown[],
  name?: string,
): Promise<R[]> {
  if (name === undefined) return (await on.query(text, [...values])).rows as R[]
  const known = texts.get(name)
  if (known === undefined) texts.set(name, text)
  else if (known !== text) throw new Error(`bug: the prepared statement ${name} was given a second text`)
  const run = async () => (await on.query({ name: `sq_${name}_${generation}`, text, values: [...values] })).rows as R[]
  try {
    return await run()
  } catch (error) {
    if ((error as { code?: unknown })?.code !== STALE_PREPARED_STATEMENT) throw error
    generation++
    return run()
  }
}

/** `fn` in a transaction on a client of the pool; one that cannot roll back is discarded. */
export async function pgTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let result: T
  try {
    await client.query('begin')
    result = await fn(client)
    // An error the callback caught left the transaction aborted: its COMMIT says ROLLBACK.
    if ((await client.query('commit')).command === 'ROLLBACK') throw new StorageError('the transaction was rolled back')
  } catch (error) {
    const rolledBack = await client.query('rollback').catch(() => undefined)
    client.release(!rolledBack)
    throw error
  }
  client.release()
  return result
}
