import type { Pool, PoolConfig } from 'pg'
import { redactSecrets } from '../../redact.js'
import { isoReader, lazyBackend, type Connection, type SqlSpelling } from '../backend.js'
import { pg } from './pg-driver.js'
import { pgQuery } from './pg-prepared.js'

const nowPlusSeconds = (seconds: string) => `now() + make_interval(secs => cast(${seconds} as double precision))`

export const PG_SPELLING: SqlSpelling = {
  param: (n) => `$${n}`,
  // The transaction's start: every statement of sq is its own short transaction, or one of a few.
  now: 'now()',
  nowMs: 'cast(extract(epoch from now()) * 1000 as double precision)',
  nowPlusSeconds,
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
}

/** Notifies `sq_queued` of each queue of the array $1 with its count in $2 (Backend.announceQueued). */
export const ANNOUNCE_QUEUED = `select pg_notify('sq_queued', "q" || ' ' || "n") from unnest(cast($1 as text[]), cast($2 as integer[])) as "c"("q", "n")`
export const announcedValues = (counts: ReadonlyMap<string, number>) => [[...counts.keys()], [...counts.values()]]

/** A pool that survives its server: an unheard 'error' of a lost client would crash the worker at a restart. */
export function survivingPool(config: PoolConfig): Pool {
  const pool = new pg.Pool({ connectionTimeoutMillis: 10_000, ...config })
  pool.on('error', () => {})
  pool.on('connect', (client) => {
    client.on('error', () => {})
  })
  return pool
}

/** The URL's password is registered for redaction when the URL is parsed (parseDatabaseUrl). */
export function openPostgres(url: string): Connection {
  const pool = survivingPool({ connectionString: url, max: 10 })
  const whole = lazyBackend(
    () => import('./postgres.js').then((m) => m.postgresBackend(connection, pool, url)),
    () => pool.end(),
  )
  const connection: Connection = {
    name: 'postgres',
    displayUrl: redactSecrets(url),
    spelling: PG_SPELLING,
    // On the pool, as the whole backend does once loaded: the pool gives each statement a connection,
    // so none joins another's transaction.
    query: (text, values, name) => pgQuery(pool, text, values, name),
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
