import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { Dialect } from '../../src/storage/dialect.js'
import { cancelRunning, claimTasks } from '../../src/storage/run-repository.js'
import { insertTask, requeueTasks } from '../../src/storage/task-repository.js'
import { createTestDatabase, DIALECTS, openTestDatabase, type TestDatabase } from '../helpers/db.js'
import { waitFor } from '../helpers/wait.js'

// Notifications come from a trigger (migration 002) on PostgreSQL; SQLite has none and workers poll.
if (DIALECTS.includes('postgres')) {
  describe('status change notifications (postgres)', () => {
    let db: TestDatabase
    let d: Dialect
    const heard: string[] = []
    const stops: Array<() => Promise<void>> = []

    before(async () => {
      db = await createTestDatabase('postgres')
      d = await openTestDatabase(db)
      for (const channel of ['sq_queued', 'sq_ended', 'sq_cancel']) {
        stops.push(await d.listen(channel, (payload) => heard.push(`${channel}:${payload}`)))
      }
    })
    after(async () => {
      await Promise.all(stops.map((stop) => stop()))
      await d.close()
      await db.drop()
    })

    it('notifies a new task, the end of a cancelled run, and a requeue', async () => {
      const id = randomUUID()
      await insertTask(d, { id, task: 't#x', argsJson: '{}', queue: 'mail', priority: 0, maxAttempts: 1, key: null, runAt: { afterSeconds: 0 } })
      await waitFor(() => heard.includes('sq_queued:mail'), 3000)
      await claimTasks(d, { workerId: 'w', workerName: 'h:1', pid: 1, queues: ['mail'], limit: 1 })
      assert.equal(await cancelRunning(d, id), true)
      await waitFor(() => heard.includes(`sq_cancel:${id}`) && heard.includes(`sq_ended:${id}`), 3000)
      heard.length = 0
      assert.deepEqual(await requeueTasks(d, [id]), [id])
      await waitFor(() => heard.includes('sq_queued:mail'), 3000)
      assert.ok(!heard.some((h) => h.startsWith('sq_ended') || h.startsWith('sq_cancel')), heard.join(', '))
    })
  })
}
