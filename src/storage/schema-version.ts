import type { Connection } from './backend.js'

/** The newest migration's name (migrate.ts checks that it is the last of its list). */
export const LATEST_MIGRATION = '010-enqueue-function'

/** Kysely's migrator owns this table; only its name column is read here. */
export const MIGRATION_TABLE = 'sq_migration'

/** Where the schema stands, asked on every open in one read written out: that loads neither Kysely nor migrations. */
export async function schemaState(connection: Connection): Promise<'current' | 'behind' | 'absent'> {
  try {
    const rows = await connection.query<{ name: string }>(
      `select "name" from "${MIGRATION_TABLE}" order by "name" desc limit ${connection.spelling.param(1)}`,
      [1],
    )
    if (rows.length === 0) return 'absent'
    return rows[0]!.name === LATEST_MIGRATION ? 'current' : 'behind'
  } catch (error) {
    if (connection.isMissingTable(error)) return 'absent'
    throw error
  }
}
