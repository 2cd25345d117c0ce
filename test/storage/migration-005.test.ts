import assert from 'node:assert/strict'
import { sql } from 'kysely'
import type { Backend } from '../../src/storage/backend.js'
import { openPostgres } from '../../src/storage/backends/pg-connection.js'
import { openSqlite } from '../../src/storage/backends/sqlite-connection.js'
import { taskPage } from '../../src/storage/dashboard-repository.js'
import { migrateToLatest } from '../../src/storage/migrate.js'
import { initial } from '../../src/storage/migrations/001-initial.js'
import { notifyTriggers } from '../../src/storage/migrations/002-notify-triggers.js'
import { schedulesAndPauses } from '../../src/storage/migrations/003-schedules-and-pauses.js'
import { notifyPerStatement } from '../../src/storage/migrations/004-notify-per-statement.js'
import { idsWithStatus } from '../../src/storage/task-maintenance.js'
import { listTasks } from '../../src/storage/task-repository.js'
import type { Status } from '../../src/types.js'
import { migrateOnly } from '../helpers/migrations.js'
import { createTestDatabase, DIALECTS, describeOn, type TestDatabase } from '../helpers/db.js'
import { age, insert, setStatus } from '../helpers/sq.js'

async function indexesOfTasks(d: Backend): Promise<string[]> {
  const { rows } =
    d.name === 'postgres'
      ? await sql<{ name: string }>`select indexname as name from pg_indexes where tablename = 'sq_tasks'`.execute(d.db)
      : await sql<{
          name: string
        }>`select name from sqlite_master where type = 'index' and tbl_name = 'sq_tasks'`.execute(d.db)
  return rows.map((r) => r.name)
}

/**
 * Migration 005 drops sq_tasks_modified from a database that holds tasks (one left at migration 004, as
 * a release before it left it), and every list newest first then merges one walk per status.
 */
for (const dialect of DIALECTS) {
  describeOn(dialect, `migration 005 on a database holding tasks (${dialect})`, () => {
    let db: TestDatabase
    let d: Backend
    before(async () => {
      db = await createTestDatabase(dialect)
      d = await (dialect === 'postgres' ? openPostgres(db.url) : openSqlite(db.url)).backend()
      const before005 = {
        '001-initial': initial(d),
        '002-notify-triggers': notifyTriggers(d),
        '003-schedules-and-pauses': schedulesAndPauses(d),
        '004-notify-per-statement': notifyPerStatement(d),
      }
      await migrateOnly(d, before005)
    })
    after(async () => {
      await d?.close()
      await db?.drop()
    })

    it('drops the index, keeps the tasks, and lists them newest first across statuses', async () => {
      // Statuses interleaved in time, 60 s apart, the newest last; two tasks share one `modified`.
      const statuses: Status[] = ['completed', 'failed', 'queued', 'completed', 'cancelled', 'progress', 'failed']
      const ids: string[] = []
      for (const [i, status] of statuses.entries()) {
        const id = await insert(d, { task: `t#${i}` })
        if (status !== 'queued') await setStatus(d, id, status)
        await age(d, id, (statuses.length - i) * 60)
        ids.push(id)
      }
      const twin = await insert(d, { task: 't#twin' })
      await setStatus(d, twin, 'failed')
      await sql`update sq_tasks set modified = (select modified from sq_tasks where id = ${ids[3]!}) where id = ${twin}`.execute(
        d.db,
      )
      assert.ok((await indexesOfTasks(d)).includes('sq_tasks_modified'))

      await migrateToLatest(d)
      const indexes = await indexesOfTasks(d)
      assert.ok(!indexes.includes('sq_tasks_modified'), indexes.join(', '))
      assert.ok(indexes.includes('sq_tasks_status_modified'), indexes.join(', '))

      // Newest first; the two of one `modified` by id, descending.
      const [hi, lo] = twin > ids[3]! ? [twin, ids[3]!] : [ids[3]!, twin]
      const all = [ids[6], ids[5], ids[4], hi, lo, ids[2], ids[1], ids[0]]
      const list = async (f: { statuses?: Status[]; limit?: number; since?: string }) =>
        (await listTasks(d, { limit: 50, ...f })).map((t) => t.id)
      assert.deepEqual(await list({}), all)
      assert.deepEqual(await list({ limit: 3 }), all.slice(0, 3))
      assert.deepEqual(await list({ statuses: ['failed', 'cancelled'] }), [ids[6], ids[4], twin, ids[1]])
      assert.deepEqual(await list({ statuses: ['completed'] }), [ids[3], ids[0]])
      assert.deepEqual(await list({ since: new Date(Date.now() - 150_000).toISOString() }), [ids[6], ids[5]])
      assert.deepEqual(await idsWithStatus(d, ['failed', 'completed']), [ids[6], hi, lo, ids[1], ids[0]])
      // The dashboard's pages: each a slice of the same order, the row after the page telling `more`.
      for (const offset of [0, 3, 6]) {
        const page = await taskPage(d, { limit: 3, offset })
        assert.deepEqual(
          page.tasks.map((t) => t.id),
          all.slice(offset, offset + 3),
        )
        assert.equal(page.more, offset + 3 < all.length)
      }
    })
  })
}
