import { Migrator, type Migration } from 'kysely'
import type { Backend } from '../../src/storage/backend.js'
import { MIGRATION_TABLE } from '../../src/storage/schema-version.js'

/** Brings a database to where an earlier release left it: these migrations only, in sq's own table. */
export async function migrateOnly(d: Backend, migrations: Record<string, Migration>): Promise<void> {
  const { error } = await new Migrator({
    db: d.db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: `${MIGRATION_TABLE}_lock`,
  }).migrateToLatest()
  if (error) throw error
}
