import assert from 'node:assert/strict'
import { CompiledQuery } from 'kysely'
import type { SqlRunner } from '../../src/storage/backend.js'
import { findByIdPrefix } from '../../src/storage/task-repository.js'
import { useTestDatabase } from '../helpers/db.js'
import { explainingDialect } from '../helpers/explain.js'
import { insert } from '../helpers/sq.js'

/**
 * `sq show` with a short id looks the task up by prefix. On PostgreSQL the ids compare in byte order
 * (migration 006), so the lookup ranges over the primary key: it costs the same with a million tasks
 * as with fifty. (SQLite's LIKE ignores case, so no index can serve it there; ids are hex, and its
 * lookup stays a scan of the primary key's entries.)
 */
describe('a task found by a prefix of its id (postgres)', () => {
  const t = useTestDatabase('postgres')
  const ids: string[] = []
  before(async () => {
    for (let i = 0; i < 50; i++) ids.push(await insert(t.d, { task: 't#x' }))
  })

  it('finds it through the primary key, not by scanning the table', async () => {
    const seen: Array<{ text: string; parameters: readonly unknown[] }> = []
    const recording: SqlRunner = {
      spelling: t.d.spelling,
      query: (text, parameters) => {
        seen.push({ text, parameters })
        return t.d.query(text, parameters)
      },
    }
    const target = ids[17]!
    assert.deepEqual(await findByIdPrefix(recording, target.slice(0, 8)), [target])

    const { logged, close } = await explainingDialect(t.db, t.d) // sequential scans off
    try {
      const [{ text, parameters }] = seen as [(typeof seen)[0]]
      const { rows } = await logged.db.executeQuery(CompiledQuery.raw(`explain ${text}`, [...parameters]))
      const plan = (rows as Array<{ 'QUERY PLAN': string }>).map((r) => r['QUERY PLAN']).join('\n')
      assert.match(plan, /Index Only Scan using sq_tasks_pkey|Index Scan using sq_tasks_pkey/, plan)
      assert.doesNotMatch(plan, /Seq Scan/, plan)
    } finally {
      await close()
    }
  })
})
