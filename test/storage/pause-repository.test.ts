import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { pausedQueues, pauseQueue, resumeQueue } from '../../src/storage/pause-repository.js'
import { claimTasks, hasRunnable } from '../../src/storage/run-repository.js'
import { insertTask } from '../../src/storage/task-repository.js'
import { DIALECTS, useTestDatabase } from '../helpers/db.js'
import { sleep, waitFor } from '../helpers/wait.js'

for (const dialect of DIALECTS) {
  describe(`paused queues (${dialect})`, () => {
    const t = useTestDatabase(dialect, { clean: true })
    const add = (queue: string) =>
      insertTask(t.d, { id: randomUUID(), task: 't#x', argsJson: '{}', queue, priority: 0, maxAttempts: 1, key: null, runAt: { afterSeconds: 0 } })
    const claim = (queues: string[]) => claimTasks(t.d, { workerId: 'w', workerName: 'h:1', pid: 1, queues, limit: 10 })

    it('the claim and the runnable check skip a paused queue and only it; pause and resume are idempotent', async () => {
      await add('mail')
      await add('mail')
      await add('sms')
      const first = await pauseQueue(t.d, 'mail')
      await sleep(5)
      assert.deepEqual(await pauseQueue(t.d, 'mail'), first)
      assert.deepEqual(await pausedQueues(t.d), [first])
      assert.equal(await hasRunnable(t.d, ['mail']), false)
      assert.deepEqual((await claim(['mail', 'sms'])).map((task) => task.queue), ['sms'])
      assert.deepEqual(await claim(['mail']), [])
      assert.equal(await resumeQueue(t.d, 'mail'), true)
      assert.equal(await resumeQueue(t.d, 'mail'), false)
      assert.equal(await hasRunnable(t.d, ['mail']), true)
      assert.deepEqual((await claim(['mail', 'sms'])).map((task) => task.queue), ['mail', 'mail'])
      assert.deepEqual(await pausedQueues(t.d), [])
    })

    if (dialect === 'postgres') {
      it('resuming notifies sq_queued with the queue, so idle workers claim at once', async () => {
        const heard: string[] = []
        const stop = await t.d.listen('sq_queued', (payload) => heard.push(payload))
        try {
          await pauseQueue(t.d, 'reports')
          await resumeQueue(t.d, 'reports')
          await waitFor(() => heard.includes('reports'), 3000, 'the notification')
          // Resuming a queue that was not paused deletes nothing, and wakes no one.
          heard.length = 0
          await resumeQueue(t.d, 'reports')
          await sleep(300)
          assert.deepEqual(heard, [])
        } finally {
          await stop()
        }
      })
    }
  })
}
