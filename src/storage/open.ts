import { StorageError, UsageError } from '../errors.js'
import { redactUrl } from '../redact.js'
import type { Dialect } from './dialect.js'
import { migrateToLatest } from './migrate.js'

export type DatabaseLocation = { kind: 'postgres'; url: string } | { kind: 'sqlite'; path: string }

/** `postgres://…` / `postgresql://…` select PostgreSQL; `sqlite:PATH`, `file:PATH` or a plain path, SQLite. */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  const text = url.trim()
  if (text === '') throw new UsageError('the database URL is empty (set --db or SQ_DATABASE_URL)')
  if (/^postgres(ql)?:\/\//i.test(text)) return { kind: 'postgres', url: text }
  const sqlite = /^(sqlite|file):(\/\/)?(.*)$/i.exec(text)
  if (sqlite) {
    if (sqlite[3] === '') throw new UsageError(`the database URL ${text} names no file`)
    return { kind: 'sqlite', path: sqlite[3] }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw new UsageError(`unsupported database URL ${redactUrl(text)}: use postgres://…, sqlite:PATH or a file path`)
  }
  return { kind: 'sqlite', path: text }
}

/**
 * Opens the database and brings its schema up to date. Drivers are imported here, on demand, so a
 * command on SQLite never loads pg and vice versa.
 */
export async function openDatabase(url: string): Promise<Dialect> {
  const location = parseDatabaseUrl(url)
  const dialect =
    location.kind === 'postgres'
      ? (await import('./dialects/postgres.js')).openPostgres(location.url)
      : (await import('./dialects/sqlite.js')).openSqlite(location.path)
  try {
    await migrateToLatest(dialect)
  } catch (error) {
    await dialect.close().catch(() => {})
    if (error instanceof StorageError) throw error
    throw new StorageError(`cannot use database ${dialect.displayUrl}: ${(error as Error).message}`, { cause: error })
  }
  return dialect
}
