import { Migrator, type Migration } from 'kysely'
import { StorageError } from '../errors.js'
import type { Backend } from './backend.js'
import { initial } from './migrations/001-initial.js'
import { notifyTriggers } from './migrations/002-notify-triggers.js'
import { schedulesAndPauses } from './migrations/003-schedules-and-pauses.js'
import { notifyPerStatement } from './migrations/004-notify-per-statement.js'
import { dropModifiedIndex } from './migrations/005-drop-modified-index.js'
import { idsInByteOrder } from './migrations/006-ids-in-byte-order.js'
import { cheaperIndexKeys } from './migrations/007-cheaper-index-keys.js'
import { insertsAnnounceThemselves } from './migrations/008-inserts-announce-themselves.js'
import { claimCounterAndRuns } from './migrations/009-claim-counter-and-runs.js'
import { enqueueFunction } from './migrations/010-enqueue-function.js'
import { LATEST_MIGRATION, MIGRATION_TABLE } from './schema-version.js'

/** One numbering for both dialects; a migration may read the backend's column types. */
function migrations(backend: Backend): Record<string, Migration> {
  return {
    '001-initial': initial(backend),
    '002-notify-triggers': notifyTriggers(backend),
    '003-schedules-and-pauses': schedulesAndPauses(backend),
    '004-notify-per-statement': notifyPerStatement(backend),
    '005-drop-modified-index': dropModifiedIndex,
    '006-ids-in-byte-order': idsInByteOrder(backend),
    '007-cheaper-index-keys': cheaperIndexKeys(backend),
    '008-inserts-announce-themselves': insertsAnnounceThemselves(backend),
    '009-claim-counter-and-runs': claimCounterAndRuns(backend),
    '010-enqueue-function': enqueueFunction(backend),
  }
}

/**
 * Brings the schema up to date under a lock that makes concurrent first starts safe (PostgreSQL: an
 * advisory lock; SQLite: BEGIN IMMEDIATE), skipping what another process applied; returns what it applied.
 */
export async function migrateToLatest(backend: Backend): Promise<string[]> {
  const all = migrations(backend)
  const latest = Object.keys(all).sort().at(-1)!
  if (latest !== LATEST_MIGRATION) throw new Error(`schema-version.ts names ${LATEST_MIGRATION}, not ${latest}`)
  const migrator = new Migrator({
    db: backend.db,
    provider: { getMigrations: async () => all },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: `${MIGRATION_TABLE}_lock`,
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error) {
    throw new StorageError(`database migration failed: ${(error as Error).message ?? String(error)}`, { cause: error })
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}
