import fs from 'node:fs'
import { parse as parsePgUrl } from 'pg-connection-string'
import { NotFoundError, SqError, StorageError, UsageError } from '../errors.js'
import { redactSecrets, registerUrlSecrets } from '../redact.js'
import type { Connection } from './backend.js'
import type { PgOptions } from './backends/pg-connection.js'
import { LATEST_MIGRATION, schemaState } from './schema-version.js'

export type DatabaseLocation = { kind: 'postgres'; url: string } | { kind: 'sqlite'; path: string }

/** `postgres://…` / `postgresql://…` select PostgreSQL; `sqlite:PATH`, `file:PATH` or a plain path, SQLite. */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  const text = url.trim()
  if (text === '') throw new UsageError('the database URL is empty (set --db or SQ_DATABASE_URL)')
  if (/^postgres(ql)?:\/\//i.test(text)) {
    // First, so that even the error refusing it, and any later driver error, hides the password.
    registerUrlSecrets(text)
    const problem = postgresUrlProblem(text)
    if (problem) {
      throw new UsageError(`malformed PostgreSQL URL ${redactSecrets(text)}: ${problem} (${URL_HINT})`)
    }
    return { kind: 'postgres', url: text }
  }
  const sqlite = /^(sqlite|file):(\/\/)?(.*)$/i.exec(text)
  if (sqlite) {
    if (sqlite[3] === '') throw new UsageError(`the database URL ${text} names no file`)
    return { kind: 'sqlite', path: sqlite[3] }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw new UsageError(
      `unsupported database URL ${redactSecrets(text)}: use postgres://…, sqlite:PATH or a file path`,
    )
  }
  return { kind: 'sqlite', path: text }
}

// A hint, not the URL's form: printed, its `user:password@` would be redacted too.
const URL_HINT = 'percent-encode special characters of the user name and password'

/**
 * What is wrong with a PostgreSQL URL: checked when read, so a URL that can never connect is bad input
 * (exit 2). It never quotes the URL: with an unescaped `/` in the password, the "port" may be part of it.
 */
function postgresUrlProblem(text: string): string | undefined {
  if (!URL.canParse(text)) {
    const authority = /^[^:]+:\/\/([^/?#]*)/.exec(text)?.[1] ?? ''
    const hostPort = authority.slice(authority.lastIndexOf('@') + 1)
    if (hostPort === '' || hostPort.startsWith(':')) return 'it names no host'
    if (/^(\[[^\]]*\]|[^:[\]]*):/.test(hostPort)) return 'its port is not a number from 1 to 65535'
    return 'it is not a valid URL'
  }
  let config: ReturnType<typeof parsePgUrl>
  try {
    config = parsePgUrl(text)
  } catch (error) {
    return `it cannot be read (${(error as Error).message})`
  }
  // pg takes `?host=` over the URL's host (a socket directory, say), and `?port=` over its port.
  if (!config.host) return 'it names no host'
  const port = config.port
  const portOk = !port || (/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)
  return portOk ? undefined : 'its port is not a number from 1 to 65535'
}

/** PgOptions (Settings.listenUrl, Settings.preparedStatements) apply to PostgreSQL only. */
export interface OpenOptions extends PgOptions {
  /** Create a missing database (the default); without, a NotFoundError: a mistyped path leaves no file. */
  create?: boolean
}

/** Opens the database and brings its schema up to date; Kysely loads only to migrate, or for backend(). */
export async function openConnection(url: string, o: OpenOptions = {}): Promise<Connection> {
  return (await openMigrated(url, { ...o, create: o.create ?? true })).connection
}

/** The settings the PostgreSQL backend reads. */
export const pgOptions = (s: PgOptions): PgOptions => ({
  listenUrl: s.listenUrl,
  preparedStatements: s.preparedStatements,
})

/** `sq migrate`: creates the database or brings its schema up to date, then closes it; what it reports. */
export async function migrateDatabase(url: string, o: PgOptions = {}) {
  const { connection, applied } = await openMigrated(url, { ...o, create: true })
  await connection.close()
  return { database: connection.displayUrl, migration: LATEST_MIGRATION, applied }
}

async function openMigrated(url: string, o: OpenOptions): Promise<{ connection: Connection; applied: string[] }> {
  const location = parseDatabaseUrl(url)
  if (!o.create && location.kind === 'sqlite' && !fs.existsSync(location.path)) throw noDatabase(location.path)
  let connection: Connection
  // Where migrations run. Kysely's migration lock is a session's advisory lock, which a pooler in transaction
  // mode would leave held on whichever server connection took it: with a listenUrl, they go there, direct.
  let migrating = () => connection
  if (location.kind === 'postgres') {
    const { openPostgres } = await importDriver('pg', () => import('./backends/pg-connection.js'))
    const { listenUrl } = o
    connection = openPostgres(location.url, o)
    if (listenUrl) migrating = () => openPostgres(listenUrl, o)
  } else {
    const { openSqlite } = await importDriver('better-sqlite3', () => import('./backends/sqlite-connection.js'))
    connection = openSqlite(location.path)
  }
  try {
    const state = await schemaState(connection)
    if (state === 'absent' && !o.create) throw noDatabase(connection.displayUrl)
    if (state === 'current') return { connection, applied: [] }
    const migrator = migrating()
    try {
      const [{ migrateToLatest }, backend] = await Promise.all([import('./migrate.js'), migrator.backend()])
      return { connection, applied: await migrateToLatest(backend) }
    } finally {
      if (migrator !== connection) await migrator.close()
    }
  } catch (error) {
    await connection.close().catch(() => {})
    if (error instanceof SqError) throw error
    throw new StorageError(`cannot use database ${connection.displayUrl}: ${(error as Error).message}`, {
      cause: error,
    })
  }
}

function noDatabase(where: string): NotFoundError {
  return new NotFoundError(
    `no sq database at ${where} (check --db or SQ_DATABASE_URL; sq migrate, sq enqueue or sq worker create one)`,
  )
}

/** The drivers are optional peer dependencies: a missing one is said by name, with its install command. */
async function importDriver<T>(driver: 'pg' | 'better-sqlite3', load: () => Promise<T>): Promise<T> {
  try {
    return await load()
  } catch (error) {
    const e = error as NodeJS.ErrnoException
    if ((e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && e.message.includes(`'${driver}'`)) {
      const engine = driver === 'pg' ? 'PostgreSQL' : 'SQLite'
      throw new StorageError(
        `sq on ${engine} needs the ${driver} package, which is not installed: npm install ${driver}`,
        { cause: error },
      )
    }
    throw error
  }
}
