import assert from 'node:assert/strict'
import { CompiledQuery } from 'kysely'
import type { SqlRunner } from '../../src/storage/backend.js'
import { findByIdPrefix } from '../../src/storage/task-repository.js'
import { DIALECTS, describeOn, useTestDatabase } from '../helpers/db.js'
import { explainingDialect } from '../helpers/explain.js'
import { insert } from '../helpers/sq.js'

/**
 * `sq show` with a short id looks the task up by prefix: a range of ids between the prefix filled out
 * with 0s and with fs, over the primary key on both databases (PostgreSQL's uuid ids have no LIKE), so
 * it costs the same with a million tasks as with fifty.
 */
for (const dialect of DIALECTS) {
  describeOn(dialect, `a task found by a prefix of its id (${dialect})`, () => {
    const t = useTestDatabase(dialect)
    const ids: string[] = []
    before(async () => {
      for (let i = 0; i < 50; i++) ids.push(await insert(t.d, { task: 't#x' }))
    })

    it('finds it by 6, 8, 11 or all 36 characters, dashes where the id has them', async () => {
      const target = ids[17]!
      for (const length of [6, 8, 11, 36]) {
        const prefix = target.slice(0, length)
        const others = ids.filter((id) => id !== target && id.startsWith(prefix))
        assert.deepEqual(await findByIdPrefix(t.d, prefix, 60), [target, ...others].sort(), prefix)
      }
    })

    it('finds every id that starts with a short prefix, and none for a dash out of place', async () => {
      const prefix = ids[3]!.slice(0, 1)
      const expected = ids.filter((id) => id.startsWith(prefix)).sort()
      assert.deepEqual(await findByIdPrefix(t.d, prefix, 60), expected)
      assert.deepEqual(await findByIdPrefix(t.d, `${ids[3]!.slice(0, 6)}-`, 60), [])
      assert.deepEqual(await findByIdPrefix(t.d, 'ffffffff-ffff-ffff-ffff-fffffffffff', 60), [])
    })

    it('ranges over the primary key, not over the table', async () => {
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

      const { logged, close } = await explainingDialect(t.db, t.d) // PostgreSQL: sequential scans off
      try {
        const [{ text, parameters }] = seen as [(typeof seen)[0]]
        const explain = dialect === 'sqlite' ? 'explain query plan' : 'explain'
        const { rows } = await logged.db.executeQuery(CompiledQuery.raw(`${explain} ${text}`, [...parameters]))
        const plan = (rows as Array<Record<string, unknown>>).map((r) => String(r.detail ?? r['QUERY PLAN'])).join('\n')
        if (dialect === 'sqlite')
          assert.match(
            plan,
            /SEARCH sq_tasks USING (COVERING )?INDEX sqlite_autoindex_sq_tasks_1 \(id>\? AND id<\?\)/,
            plan,
          )
        else assert.match(plan, /Index (Only )?Scan using sq_tasks_pkey/, plan)
        assert.doesNotMatch(plan, /Seq Scan|SCAN sq_tasks/, plan)
      } finally {
        await close()
      }
    })
  })
}
