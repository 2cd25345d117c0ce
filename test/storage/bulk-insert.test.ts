import assert from 'node:assert/strict'
import { sql } from 'kysely'
import { insertTasks } from '../../src/storage/bulk-insert.js'
import { DIALECTS, describeOn, useTestDatabase } from '../helpers/db.js'
import { countTasks, insert, newTask, readTask } from '../helpers/sq.js'

/**
 * A bulk insert writes its batch as one: on PostgreSQL a batch without keys or delays goes by COPY
 * (backends/pg-copy.ts), any other by INSERT … SELECT, and on SQLite always the latter. Either way a
 * user reads back what they enqueued, in order, stamped by the database's clock, or nothing.
 */
for (const dialect of DIALECTS) {
  describeOn(dialect, `bulk insert of new tasks (${dialect})`, () => {
    const t = useTestDatabase(dialect, { clean: true })

    it('stores text exactly: backslashes, tabs, newlines, returns, quotes and non-ASCII', async () => {
      const awkward = 'a\\b\tc\nd\re "q" \\N \\. é ✓ 🙂'
      const batch = [
        newTask({ argsJson: JSON.stringify({ s: awkward }), task: 'tasks/x\\y#go' }),
        newTask({ argsJson: '{\t"raw":\r\n"\\\\"\n}', queue: 'q.1-a_b' }), // raw whitespace between tokens
        newTask({ argsJson: '{}', priority: -3, maxAttempts: 4 }),
      ]
      await insertTasks(t.d, batch)
      const [a, b, c] = await Promise.all(batch.map((n) => readTask(t.d, n.id)))
      assert.deepEqual(a!.args, { s: awkward })
      assert.equal(a!.task, 'tasks/x\\y#go')
      const { rows } = await sql<{ args: string }>`select args from sq_tasks where id = ${batch[1]!.id}`.execute(t.d.db)
      assert.equal(rows[0]!.args, batch[1]!.argsJson)
      assert.deepEqual(b!.args, { raw: '\\' })
      assert.equal(b!.queue, 'q.1-a_b')
      assert.equal(c!.priority, -3)
      assert.equal(c!.max_attempts, 4)
      for (const task of [a!, b!, c!]) {
        assert.equal(task.status, 'queued')
        assert.equal(task.attempts, 0)
        assert.equal(task.key, null)
      }
    })

    it("stamps created, modified and run_at with the database's time, one for the whole batch", async () => {
      const { rows } = await sql<{ now: string }>`select ${t.d.now()} as now`.execute(t.d.db)
      const before = Date.parse(t.d.toIso(rows[0]!.now))
      const batch = Array.from({ length: 3 }, () => newTask())
      await insertTasks(t.d, batch)
      const tasks = await Promise.all(batch.map((n) => readTask(t.d, n.id)))
      for (const task of tasks) {
        assert.equal(task.created, tasks[0]!.created)
        assert.equal(task.modified, task.created)
        assert.equal(task.run_at, task.created)
        const at = Date.parse(task.created)
        assert.ok(at >= before && at < before + 60_000, `${task.created} vs ${new Date(before).toISOString()}`)
      }
    })

    it('delays the delayed tasks of a batch and keeps the order of all', async () => {
      const batch = [
        newTask(),
        newTask({ runAt: { afterSeconds: 3600 } }),
        newTask({ runAt: { at: '2030-01-02T03:04:05.000Z' } }),
      ]
      await insertTasks(t.d, batch)
      const [now, later, fixed] = await Promise.all(batch.map((n) => readTask(t.d, n.id)))
      assert.equal(now!.run_at, now!.created)
      const delay = Date.parse(later!.run_at) - Date.parse(later!.created)
      assert.ok(Math.abs(delay - 3_600_000) < 1000, String(delay))
      assert.equal(fixed!.run_at, '2030-01-02T03:04:05.000Z')
    })

    it('writes nothing of a batch one row of which fails, and goes on writing afterwards', async () => {
      const taken = await insert(t.d)
      const batch = Array.from({ length: 1200 }, () => newTask())
      batch[1100] = newTask({ id: taken }) // an id that exists: the primary key refuses the row
      await assert.rejects(insertTasks(t.d, batch))
      assert.equal(await countTasks(t.d), 1)
      const next = Array.from({ length: 5 }, () => newTask())
      await insertTasks(t.d, next)
      assert.equal(await countTasks(t.d), 6)
    })
  })
}
