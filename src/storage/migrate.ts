import { Migrator, type Migration } from 'kysely'
import { StorageError } from '../errors.js'
import type { Backend } from './backend.js'
import { initial } from './migrations/001-initial.js'
import { notifyTriggers } from './migrations/002-notify-triggers.js'
import { schedulesAndPauses } from './migrations/003-schedules-and-pauses.js'
import { notifyPerStatement } from './migrations/004-notify-per-statement.js'
import { dropModifiedIndex } from './migrations/005-drop-modified-index.js'

/** One numbering for both dialects; a migration may read the backend's column types. */
function migrations(backend: Backend): Record<string, Migration> {
  return {
    '001-initial': initial(backend),
    '002-notify-triggers': notifyTriggers(backend),
    '003-schedules-and-pauses': schedulesAndPauses(backend),
    '004-notify-per-statement': notifyPerStatement(backend),
    '005-drop-modified-index': dropModifiedIndex,
  }
}

const MIGRATION_TABLE = 'sq_migration'

/**
 * Brings the schema up to date. Called on every open, so the common case — already current — is one
 * read; only then does Kysely's migrator run, under a lock that makes concurrent first starts safe
 * (PostgreSQL: an advisory lock; SQLite: BEGIN IMMEDIATE, see backends/sqlite.ts).
 */
export async function migrateToLatest(backend: Backend): Promise<void> {
  const all = migrations(backend)
  const latest = Object.keys(all).sort().at(-1)!
  if (await isAt(backend, latest)) return
  const migrator = new Migrator({
    db: backend.db,
    provider: { getMigrations: async () => all },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: `${MIGRATION_TABLE}_lock`,
  })
  const { error } = await migrator.migrateToLatest()
  if (error) {
    throw new StorageError(`database migration failed: ${(error as Error).message ?? String(error)}`, { cause: error })
  }
}

async function isAt(backend: Backend, latest: string): Promise<boolean> {
  try {
    // Kysely's migrator owns this table; only its name column is read here.
    const row = await backend.db
      .withTables<{ [MIGRATION_TABLE]: { name: string } }>()
      .selectFrom(MIGRATION_TABLE)
      .select('name')
      .orderBy('name', 'desc')
      .limit(1)
      .executeTakeFirst()
    return row?.name === latest
  } catch (error) {
    if (isMissingTable(error)) return false
    throw error
  }
}

function isMissingTable(error: unknown): boolean {
  const e = error as { code?: string; message?: string }
  return e?.code === '42P01' || /no such table/.test(e?.message ?? '')
}
