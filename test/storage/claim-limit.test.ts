import assert from 'node:assert/strict'
import type { SqlRunner } from '../../src/storage/backend.js'
import { claimTasks } from '../../src/storage/run-repository.js'
import { DIALECTS, describeOn, useTestDatabase } from '../helpers/db.js'
import { insert } from '../helpers/sq.js'

for (const dialect of DIALECTS) {
  describeOn(dialect, `claim limit (${dialect})`, () => {
    const t = useTestDatabase(dialect)
    before(async () => {
      for (let i = 0; i < 20; i++) {
        await insert(t.d, { task: 't#x' })
      }
    })

    // PostgreSQL may rescan `id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` and claim more than n.
    it('claims exactly as many tasks as asked, never more', async () => {
      const claim = (limit: number) =>
        claimTasks(t.d, { workerId: 'w', workerName: 'h:1', pid: 1, queues: ['default'], limit })
      assert.equal((await claim(1)).length, 1)
      assert.equal((await claim(3)).length, 3)
      const rest = await claim(100)
      assert.equal(rest.length, 16)
      assert.equal(new Set(rest.map((t) => t.id)).size, 16)
      assert.equal((await claim(5)).length, 0)
    })

    // A claim a database crash undid would run its task a second time: it is as durable as a verdict.
    if (dialect === 'postgres')
      it('claims durably, as every other write: the commit waits for the WAL flush', async () => {
        const setting = async (trx: SqlRunner) =>
          (await trx.query<{ synchronous_commit: string }>('show synchronous_commit', []))[0]?.synchronous_commit
        assert.equal(await t.d.claim(setting), 'on')
        assert.equal(await setting(t.d), 'on')
      })
  })
}
