import assert from 'node:assert/strict'
import { claimTasks } from '../../src/storage/run-repository.js'
import { endRun } from '../../src/storage/run-verdict.js'
import { liveWorkers, orphanedRuns, registerWorker } from '../../src/storage/worker-repository.js'
import { DIALECTS, describeOn, useTestDatabase } from '../helpers/db.js'
import { insert } from '../helpers/sq.js'

for (const dialect of DIALECTS) {
  describeOn(dialect, `worker repository (${dialect})`, () => {
    const t = useTestDatabase(dialect)

    it('counts a live worker’s running tasks as they are now, not as of its last heartbeat', async () => {
      await registerWorker(t.d, {
        id: 'w1',
        name: 'hostA:10',
        host: 'hostA',
        pid: 10,
        queues: ['default'],
        concurrency: 4,
      })
      for (let i = 0; i < 3; i++) {
        await insert(t.d, { task: 't#x' })
      }
      const claimed = await claimTasks(t.d, {
        workerId: 'w1',
        workerName: 'hostA:10',
        pid: 10,
        queues: ['default'],
        limit: 2,
      })
      let [w] = await liveWorkers(t.d, 30)
      assert.deepEqual([w!.name, w!.running, w!.concurrency, w!.queues], ['hostA:10', 2, 4, ['default']])
      await endRun(t.d, { id: claimed[0]!.id, claim: 1 }, { status: 'completed' })
      ;[w] = await liveWorkers(t.d, 30)
      assert.equal(w!.running, 1)
      // Alive: none of its runs is an orphan.
      assert.deepEqual(await orphanedRuns(t.d, 30), [])
    })
  })
}
