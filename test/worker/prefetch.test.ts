import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import type { Task } from '../../src/index.js'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { waitFor, waitForFile } from '../helpers/wait.js'
import { workerSuite, type SqProcess, type WorkerSuite } from '../helpers/worker.js'
import { TASKS } from './fixtures.js'

/**
 * Tasks a worker claimed ahead into its local queue (`progress`, not started): a cancel drops them
 * unrun, and when their worker is killed another worker puts them back in the queue without failing
 * them — they never ran.
 */
const FAST = { SQ_HEARTBEAT_TIMEOUT: '2' }

/**
 * With one slot: fast tasks teach the worker to claim ahead, then a gated task holds the slot while
 * `target` waits claimed behind it. Resolves when the target is claimed and not started.
 */
async function holdBehindGate(s: WorkerSuite, worker: () => SqProcess) {
  const gate = s.file('gate')
  // In this order whatever their creation times: tasks enqueued within one millisecond may be claimed in
  // either order (README, The worker).
  for (let i = 0; i < 5; i++) await s.enqueue('tasks#nothing', {}, { priority: 2 })
  const gated = await s.enqueue('tasks#gated', { gate, pidFile: s.file('gated.pid') }, { priority: 1 })
  const target = await s.enqueue('tasks#note', { file: s.file('target-ran'), token: 'target' })
  const w = worker()
  await waitForFile(s.file('gated.pid'), 10_000)
  // The gated task's start reaches the database a few ms after it starts (README: at-least-once).
  await waitFor(async () => (await s.get(gated)).started !== null, 10_000, 'the gated task to be recorded as started')
  const waiting = await waitFor(
    async () => {
      const t = await s.get(target)
      return t.status === 'progress' && t.started === null ? t : undefined
    },
    10_000,
    'the target to be claimed ahead and not started',
  )
  return { w, gate, gated, target, waiting }
}

for (const dialect of DIALECTS) {
  describeOn(dialect, `tasks claimed ahead (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS })

    it('a cancel drops a claimed, unstarted task: it never runs', async () => {
      const { w, gate, gated, target } = await holdBehindGate(s, () => s.worker(['--concurrency', '1']))
      const cancel = s.sq(['cancel', target])
      assert.equal((await cancel.ended()).code, 0, cancel.output)
      await w.waitForOutput(new RegExp(`dropped ${target}`))
      fs.writeFileSync(gate, '')
      assert.equal((await s.waitForStatus(gated)).status, 'completed')
      const t: Task = await s.get(target)
      assert.equal(t.status, 'cancelled')
      assert.equal(fs.existsSync(s.file('target-ran')), false, 'the cancelled task never ran')
      w.signal('SIGTERM')
      assert.equal((await w.ended()).code, 0, w.output)
    })

    it('kill -9 of its worker: the started task fails, the unstarted one goes back uncharged and completes', async () => {
      const { w, gate, gated, target, waiting } = await holdBehindGate(s, () => s.worker(['--concurrency', '1'], FAST))
      w.signal('SIGKILL')
      await w.exit
      fs.writeFileSync(gate, '')
      const b = s.worker([], FAST)
      const failed = await s.waitForStatus(gated, ['failed'], 20_000)
      assert.match(failed.error!, new RegExp(`Worker ${os.hostname()}:${w.pid} stopped heartbeating`))
      const done = await s.waitForStatus(target, ['completed', 'failed'], 20_000)
      assert.equal(done.status, 'completed', done.error ?? '')
      assert.equal(done.worker, `${os.hostname()}:${b.pid}`)
      // Not charged for the claim that never ran: its one run is its first attempt.
      assert.deepEqual([done.attempts, done.max_attempts], [1, waiting.max_attempts])
      assert.deepEqual(fs.readFileSync(s.file('target-ran'), 'utf8').split('\n').filter(Boolean), ['target'])
      b.signal('SIGTERM')
      assert.equal((await b.ended()).code, 0, b.output)
    })

    it('a graceful stop gives the unstarted task back with its attempt', async () => {
      const { w, gate, gated, target } = await holdBehindGate(s, () => s.worker(['--concurrency', '1']))
      w.signal('SIGTERM')
      await w.waitForOutput(/gave back 1 claimed task that had not started/)
      const back = await s.waitForStatus(target, ['queued'], 10_000)
      assert.deepEqual([back.attempts, back.worker, back.started], [0, null, null])
      fs.writeFileSync(gate, '')
      assert.equal((await w.ended()).code, 0, w.output)
      assert.equal((await s.get(gated)).status, 'completed')
    })
  })
}
