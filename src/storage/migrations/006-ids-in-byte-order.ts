import { sql, type Kysely, type Migration } from 'kysely'
import type { Backend } from '../backend.js'

/**
 * Frozen. PostgreSQL: task ids compare byte by byte (COLLATE "C"), as SQLite's always have. Ids are
 * random UUIDs, so every insert walks the primary key from its root, comparing ids all the way down;
 * under the database's locale each comparison went through the C library's collation (50,000 tasks
 * inserted in bulk: ~18% of the server's time). Byte order also lets `id LIKE 'prefix%'` (`sq show`
 * with a short id) range over the primary key instead of scanning the table. sq_task_chunks.task_id,
 * which references the id, follows. Hex digits and dashes sort alike under both, so no order changes.
 * Altering the collation rebuilds the two indexes, not the rows. SQLite: nothing.
 */
export function idsInByteOrder(backend: Pick<Backend, 'name'>): Migration {
  const collate = (collation: string) => async (db: Kysely<unknown>) => {
    if (backend.name !== 'postgres') return
    const type = sql.raw(`varchar(36) collate "${collation}"`)
    await sql`alter table sq_tasks alter column id type ${type}`.execute(db)
    await sql`alter table sq_task_chunks alter column task_id type ${type}`.execute(db)
  }
  return { up: collate('C'), down: collate('default') }
}
