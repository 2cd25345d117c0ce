import { sql, type SelectQueryBuilder } from 'kysely'
import { STATUSES, type Status } from '../types.js'
import type { Backend } from './backend.js'
import type { Database } from './schema.js'

/**
 * Tasks of some statuses (all when none are given) in `modified` order, then `id`: `limit` rows after
 * `offset` of `base`, the caller's query with its other filters. No index orders the whole table by
 * `modified` (migration 005 dropped it: every write paid for it), so each status is one walk of
 * sq_tasks_status_modified, cut at offset + limit rows, and the walks are merged.
 */
export async function inModifiedOrder<O extends { id: string; modified: unknown }>(
  backend: Backend,
  statuses: readonly Status[] | undefined,
  base: SelectQueryBuilder<Database, 'sq_tasks', O>,
  o: { direction: 'asc' | 'desc'; limit: number; offset?: number },
): Promise<O[]> {
  const offset = o.offset ?? 0
  const wanted = [...new Set(statuses && statuses.length > 0 ? statuses : STATUSES)]
  const walk = (status: Status) =>
    base.where('status', '=', status).orderBy('modified', o.direction).orderBy('id', o.direction)
  if (wanted.length === 1) return walk(wanted[0]!).limit(o.limit).offset(offset).execute()
  // Each walk is a subquery of its own: SQLite allows no ORDER BY or LIMIT on a member of a UNION.
  const [first, ...rest] = wanted.map((status, i) =>
    backend.db
      .selectFrom(
        walk(status)
          .limit(offset + o.limit)
          .as(`w${i}`),
      )
      .selectAll(),
  )
  const merged = rest.reduce((union, next) => union.unionAll(next), first!)
  const rows = await backend.db
    .selectFrom(merged.as('m'))
    .selectAll()
    .orderBy(sql.ref('m.modified'), o.direction)
    .orderBy(sql.ref('m.id'), o.direction)
    .limit(o.limit)
    .offset(offset)
    .execute()
  return rows as O[]
}
