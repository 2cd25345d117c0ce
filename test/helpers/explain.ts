import assert from 'node:assert/strict'
import BetterSqlite3 from 'better-sqlite3'
import pg from 'pg'
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, type LogEvent } from 'kysely'
import type { Backend, Session } from '../../src/storage/backend.js'
import type { Database } from '../../src/storage/schema.js'
import type { TestDatabase } from './db.js'

/**
 * The same database under a second Kysely that records each query, and a way to EXPLAIN them. On
 * PostgreSQL sequential scans are disabled for that session, so a Seq Scan in a plan means no index
 * could serve the query (on a tiny table the planner would otherwise prefer one anyway).
 */
export async function explainingDialect(db: TestDatabase, d: Backend) {
  const seen: CompiledQuery[] = []
  const log = (e: LogEvent) => {
    if (e.level === 'query') seen.push(e.query)
  }
  const kysely =
    d.name === 'sqlite'
      ? new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(db.url) }), log })
      : new Kysely<Database>({
          dialect: new PostgresDialect({
            pool: new pg.Pool({ connectionString: db.url, max: 1 }),
            onCreateConnection: async (c) => {
              await c.executeQuery(CompiledQuery.raw('set enable_seqscan = off'))
            },
          }),
          log,
        })
  // Writes go through the recording Kysely too (plain transactions suffice for a test on one connection).
  const logged: Backend = {
    ...d,
    ...sessionOver(d, kysely),
    exclusive: (fn) => fn(sessionOver(d, kysely)),
    claim: (fn) => fn(sessionOver(d, kysely)),
    writeTransaction: (fn) => kysely.transaction().execute((trx) => fn(sessionOver(d, trx))),
  }
  return {
    logged,
    async plans() {
      const queries = seen.filter((q) => /^\s*(select|with|update|delete)/i.test(q.sql))
      const out: Array<{ query: string; plan: string[] }> = []
      for (const q of queries) {
        const prefix = d.name === 'sqlite' ? 'explain query plan ' : 'explain '
        const result = await kysely.executeQuery(CompiledQuery.raw(prefix + q.sql, [...q.parameters]))
        const plan = (result.rows as Array<Record<string, unknown>>).map((r) => String(r.detail ?? r['QUERY PLAN']))
        out.push({ query: q.sql, plan })
      }
      return out
    },
    close: () => kysely.destroy(),
  }
}

/** Both ways of running a statement through one Kysely handle (whose log then sees every statement). */
export function sessionOver(d: Backend, db: Kysely<Database>): Session {
  return {
    spelling: d.spelling,
    db,
    query: async <R>(text: string, values: readonly unknown[]) =>
      (await db.executeQuery<R>(CompiledQuery.raw(text, [...values]))).rows as R[],
  }
}

/**
 * Fails when any plan reads sq_tasks or sq_task_chunks without an index. `aliases` are the table
 * aliases the queries use (SQLite names a scan by its alias).
 */
export function assertIndexed(
  dialect: Backend['name'],
  all: Array<{ query: string; plan: string[] }>,
  aliases: string[] = [],
): void {
  const sqliteScan = new RegExp(`\\bSCAN (${['sq_tasks', 'sq_task_chunks', ...aliases].join('|')})\\b`)
  for (const { query, plan } of all) {
    const bad =
      dialect === 'sqlite'
        ? plan.filter((l) => sqliteScan.test(l) && !/INDEX/.test(l))
        : plan.filter((l) => /Seq Scan on (sq_tasks|sq_task_chunks)/.test(l))
    assert.deepEqual(bad, [], `unindexed scan in ${query}\n${plan.join('\n')}`)
  }
}
