import assert from 'node:assert/strict'
import os from 'node:os'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { isAlive, waitForExit, waitForFile } from '../helpers/wait.js'
import type { Task } from '../../src/types.js'
import { workerSuite } from '../helpers/worker.js'
import { TASKS } from './fixtures.js'

/** What a worker stopped mid-run leaves: the task queued again, uncharged, its partial output in the log. */
function assertGivenBack(t: Task, workerOutput: string): void {
  assert.equal(t.status, 'queued', workerOutput)
  assert.equal(t.attempts, 0, 'the attempt was handed back')
  assert.equal(t.started, null)
  assert.equal(t.error, null)
  assert.match(
    t.log ?? '',
    /\[sq\] the worker stopped before the task finished: queued again without spending an attempt\n$/,
  )
  assert.match(workerOutput, new RegExp(`gave back ${t.id} in [0-9.]+s: the worker stopped before it finished`))
}

/** Cancel of a running task, a worker killed with SIGKILL, and graceful stops (SPEC §6 cancel, §7). */
for (const dialect of DIALECTS) {
  describeOn(dialect, `worker lifecycle (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS })
    /** Short heartbeat timeout, so that a dead worker is noticed within the test. */
    const FAST = { SQ_HEARTBEAT_TIMEOUT: '2' }

    it('sq cancel stops a running task and its process group within ~1 s; the worker runs the next task', async () => {
      const worker = s.worker()
      const id = await s.enqueue('tasks#hang', { pidFile: s.file('task.pid'), childPidFile: s.file('grandchild.pid') })
      const taskPid = Number(await waitForFile(s.file('task.pid'), 10_000))
      const grandchild = Number(await waitForFile(s.file('grandchild.pid'), 10_000))

      const cancel = s.sq(['cancel', id])
      assert.equal((await cancel.ended()).code, 0, cancel.output)
      assert.match(cancel.stdout, new RegExp(`cancelled ${id} \\(was running\\)`))
      const t = await s.get(id)
      assert.equal(t.status, 'cancelled')
      assert.ok(t.finished)
      // "Within about a second" (SPEC §6), with room for a loaded machine.
      await waitForExit(taskPid, 5000, 'the cancelled task process to be killed')
      await waitForExit(grandchild, 5000, "the cancelled task's grandchild to be killed")

      const next = await s.enqueue('tasks#pid')
      const after = await s.waitForStatus(next, undefined, 10_000)
      assert.equal(after.status, 'completed')
      assert.notEqual(Number(after.output), taskPid)
      assert.equal((await s.get(id)).status, 'cancelled', 'the killed run did not overwrite the verdict')
      worker.signal('SIGTERM')
      assert.equal((await worker.ended()).code, 0, worker.output)
    })

    it('a worker killed with SIGKILL takes its task process with it; another worker fails the task, naming it', async () => {
      const a = s.worker([], FAST)
      const id = await s.enqueue('tasks#hang', { pidFile: s.file('task.pid') })
      const taskPid = Number(await waitForFile(s.file('task.pid'), 10_000))
      a.signal('SIGKILL')
      await a.exit
      await waitForExit(taskPid, 10_000, "the dead worker's task process to exit")
      assert.equal((await s.get(id)).status, 'progress', 'nobody has noticed yet')

      const b = s.worker([], FAST)
      const t = await s.waitForStatus(id, ['failed'], 15_000)
      assert.match(t.error!, new RegExp(`Worker ${os.hostname()}:${a.pid} stopped heartbeating`))
      assert.match(t.error!, new RegExp(`by worker ${os.hostname()}:${b.pid}`))
      b.signal('SIGTERM')
      assert.equal((await b.ended()).code, 0, b.output)
    })

    it('with --max-attempts 2 the task of a SIGKILLed worker is retried and completes on another worker', async () => {
      const a = s.worker([], FAST)
      const id = await s.enqueue(
        'tasks#hangOnce',
        { pidFile: s.file('task.pid'), counter: s.file('runs') },
        { maxAttempts: 2 },
      )
      const taskPid = Number(await waitForFile(s.file('task.pid'), 10_000))
      a.signal('SIGKILL')
      await a.exit
      await waitForExit(taskPid, 10_000, "the dead worker's task process to exit")

      const b = s.worker([], FAST)
      const t = await s.waitForStatus(id, ['completed', 'failed'], 15_000)
      assert.equal(t.status, 'completed', t.error ?? '')
      assert.equal(t.output, 'run 2 completed')
      assert.equal(t.attempts, 2)
      assert.equal(t.worker, `${os.hostname()}:${b.pid}`)
      b.signal('SIGTERM')
      assert.equal((await b.ended()).code, 0, b.output)
    })

    it('on SIGTERM a worker lets its running task finish, then exits 0', async () => {
      const worker = s.worker()
      const id = await s.enqueue('tasks#sleepy', { ms: 1000 })
      await s.waitForStatus(id, ['progress'])
      const queued = await s.enqueue('tasks#text')
      worker.signal('SIGTERM')
      assert.deepEqual(await worker.ended(10_000), { code: 0, signal: null }, worker.output)
      const t = await s.get(id)
      assert.equal(t.status, 'completed', t.error ?? '')
      assert.equal(t.output, 'slept 1000')
      assert.equal((await s.get(queued)).status, 'queued', 'a stopping worker claims nothing new')
      await s.queue.cancel([queued])
    })

    it('stops a task that outlives --grace and gives it back to the queue without spending its attempt', async () => {
      const worker = s.worker(['--grace', '1'])
      const id = await s.enqueue(
        'tasks#partialOnce',
        { pidFile: s.file('task.pid'), counter: s.file('runs') },
        { maxAttempts: 1 },
      )
      const taskPid = Number(await waitForFile(s.file('task.pid'), 10_000))
      const signalled = Date.now()
      worker.signal('SIGTERM')
      assert.deepEqual(await worker.ended(10_000), { code: 0, signal: null }, worker.output)
      assert.ok(Date.now() - signalled >= 1000, 'the grace period was given')
      const given = await s.get(id)
      assertGivenBack(given, worker.output)
      assert.match(given.log ?? '', /\[sq\] output so far:\nstep 1 of 2\n/, 'the partial output is kept in the log')
      assert.equal(isAlive(taskPid), false)
      // The next deploy's worker runs it, on the attempt that was handed back.
      const next = await s.burst()
      assert.equal((await next.ended()).code, 0, next.output)
      const done = await s.get(id)
      assert.equal(done.status, 'completed')
      assert.equal(done.output, 'run 2 completed')
      assert.equal(done.attempts, 1)
    })

    it('a second SIGTERM stops at once, without waiting out the grace period', async () => {
      const worker = s.worker(['--grace', '60'])
      const id = await s.enqueue('tasks#hang', { pidFile: s.file('task.pid') })
      const taskPid = Number(await waitForFile(s.file('task.pid'), 10_000))
      worker.signal('SIGTERM')
      await worker.waitForOutput(/SIGTERM: finishing running tasks/)
      assert.equal((await s.get(id)).status, 'progress', 'the first signal lets the task run')
      const second = Date.now()
      worker.signal('SIGTERM')
      await worker.ended(20_000)
      // At once, not after the 30 s grace the first signal gave; with room for a loaded machine.
      assert.ok(Date.now() - second < 10_000, `stopped ${Date.now() - second} ms after the second SIGTERM`)
      assertGivenBack(await s.get(id), worker.output)
      await waitForExit(taskPid, 5000)
    })
  })
}
