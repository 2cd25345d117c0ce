import type { SqlRunner } from './backend.js'

/** The newest migration's name (migrate.ts checks that it is the last of its list). */
export const LATEST_MIGRATION = '009-claim-counter-and-runs'

/** Kysely's migrator owns this table; only its name column is read here. */
export const MIGRATION_TABLE = 'sq_migration'

/**
 * Is the schema current? Asked on every open, so it is one read of SQL written out: the common case
 * loads neither Kysely nor the migrations (migrate.ts runs only when this says no).
 */
export async function isSchemaCurrent(d: SqlRunner): Promise<boolean> {
  try {
    const rows = await d.query<{ name: string }>(
      `select "name" from "${MIGRATION_TABLE}" order by "name" desc limit ${d.spelling.param(1)}`,
      [1],
    )
    return rows[0]?.name === LATEST_MIGRATION
  } catch (error) {
    if (isMissingTable(error)) return false
    throw error
  }
}

function isMissingTable(error: unknown): boolean {
  const e = error as { code?: string; message?: string }
  return e?.code === '42P01' || /no such table/.test(e?.message ?? '')
}
