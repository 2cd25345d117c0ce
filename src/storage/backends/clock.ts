import { sql } from 'kysely'
import type { Backend, SqlSpelling } from '../backend.js'

/** Where nowPlusSeconds' SQL takes its operand: split there, it takes a Kysely expression instead. */
const HOLE = '\u0000'

/** The database's clock for Kysely's builder, from the one spelling of it (SqlSpelling). */
export function clockOf(spelling: SqlSpelling): Pick<Backend, 'now' | 'nowPlusSeconds'> {
  const [before, after] = spelling.nowPlusSeconds(HOLE).split(HOLE) as [string, string]
  return {
    now: () => sql<string>`${sql.raw(spelling.now)}`,
    nowPlusSeconds: (seconds) => sql<string>`${sql.raw(before)}${seconds}${sql.raw(after)}`,
  }
}
