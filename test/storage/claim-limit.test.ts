import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { Dialect } from '../../src/storage/dialect.js'
import { claimTasks } from '../../src/storage/run-repository.js'
import { insertTask } from '../../src/storage/task-repository.js'
import { createTestDatabase, DIALECTS, openTestDatabase, type TestDatabase } from '../helpers/db.js'

for (const dialect of DIALECTS) {
  describe(`claim limit (${dialect})`, () => {
    let db: TestDatabase
    let d: Dialect
    before(async () => {
      db = await createTestDatabase(dialect)
      d = await openTestDatabase(db)
      for (let i = 0; i < 20; i++) {
        await insertTask(d, { id: randomUUID(), task: 't#x', argsJson: '{}', queue: 'default', priority: 0, maxAttempts: 1, key: null, runAt: { afterSeconds: 0 } })
      }
    })
    after(async () => {
      await d.close()
      await db.drop()
    })

    // PostgreSQL may rescan `id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` and claim more than n.
    it('claims exactly as many tasks as asked, never more', async () => {
      const claim = (limit: number) => claimTasks(d, { workerId: 'w', workerName: 'h:1', pid: 1, queues: ['default'], limit })
      assert.equal((await claim(1)).length, 1)
      assert.equal((await claim(3)).length, 3)
      const rest = await claim(100)
      assert.equal(rest.length, 16)
      assert.equal(new Set(rest.map((t) => t.id)).size, 16)
      assert.equal((await claim(5)).length, 0)
    })
  })
}
