import assert from 'node:assert/strict'
import fs from 'node:fs'
import type { QueueStats } from '../../src/queue/stats.js'
import type { QueueState } from '../../src/queue/pause.js'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { sleep } from '../helpers/wait.js'
import { workerSuite, type SqProcess } from '../helpers/worker.js'

const TASKS = `
import fs from 'node:fs'
export function tick() { return 'tick' }
export async function gated({ gate }) {
  while (!fs.existsSync(gate)) await new Promise((resolve) => setTimeout(resolve, 20))
  return 'through the gate'
}
`

/** Runs an `sq` command to its end and returns its stdout; asserts exit 0. */
async function ok(p: SqProcess): Promise<string> {
  const exit = await p.ended()
  assert.equal(exit.code, 0, p.output)
  return p.stdout
}

for (const dialect of DIALECTS) {
  describeOn(dialect, `pausing a queue (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS })

    it('a paused queue runs nothing, shows in sq stats, and runs again at once on resume', async () => {
      // An idle poll far longer than the test: only the wake-up (NOTIFY, the WAL watch) can start the task.
      const w = s.worker([], { SQ_POLL_INTERVAL: '30' })
      await w.waitForOutput(/worker \S+ started/)
      const paused = JSON.parse(await ok(s.sq(['pause', s.q, '--json']))) as QueueState
      assert.deepEqual([paused.queue, paused.paused], [s.q, true])
      assert.match(paused.paused_at!, /^\d{4}-\d\d-\d\dT.*Z$/)
      // Pausing again changes nothing: same answer, same time.
      assert.deepEqual(JSON.parse(await ok(s.sq(['pause', s.q, '--json']))), paused)

      const id = await s.enqueue('tasks#tick')
      await sleep(1500)
      assert.equal((await s.get(id)).status, 'queued', w.output)

      const stats = JSON.parse(await ok(s.sq(['stats', '--json']))) as QueueStats
      assert.deepEqual(stats.paused_queues, [{ queue: s.q, paused_at: paused.paused_at }])
      assert.match(await ok(s.sq(['stats'])), new RegExp(`^Paused queues: ${s.q}$`, 'm'))

      const resumedAt = Date.now()
      assert.deepEqual(await s.queue.resume(s.q), { queue: s.q, paused: false, paused_at: null })
      const done = await s.waitForStatus(id, ['completed'], 10_000)
      const after = Date.now() - resumedAt
      assert.equal(done.output, 'tick')
      // NOTIFY (PostgreSQL) or the WAL watch (SQLite) wakes the idle worker: in milliseconds, asserted with
      // room for a loaded machine yet far below the 30 s poll.
      assert.ok(after < 5000, `the task ran ${after} ms after the resume:\n${w.output}`)
      assert.deepEqual(JSON.parse(await ok(s.sq(['stats', '--json']))).paused_queues, [])
      // Resuming a queue that is not paused is fine too.
      assert.deepEqual(JSON.parse(await ok(s.sq(['resume', s.q, '--json']))), {
        queue: s.q,
        paused: false,
        paused_at: null,
      })
      w.signal('SIGTERM')
      assert.equal((await w.ended()).code, 0, w.output)
    })

    it('a running task is not interrupted by a pause; other queues go on', async () => {
      const gate = s.file('gate')
      const other = `${s.q}-other`
      const w = s.sq(['worker', '--db', s.db.url, '--queue', `${s.q},${other}`, '--concurrency', '2'])
      const running = await s.enqueue('tasks#gated', { gate })
      await s.waitForStatus(running, ['progress'])
      await s.queue.pause(s.q)
      const waiting = await s.enqueue('tasks#tick')
      const elsewhere = (await s.queue.enqueue({ task: 'tasks#tick', queue: other })).id
      assert.equal((await s.waitForStatus(elsewhere, ['completed'])).output, 'tick')
      fs.writeFileSync(gate, '')
      assert.equal((await s.waitForStatus(running, ['completed'])).output, 'through the gate')
      await sleep(1000)
      assert.equal((await s.get(waiting)).status, 'queued')
      await s.queue.resume(s.q)
      assert.equal((await s.waitForStatus(waiting, ['completed'])).status, 'completed')
      w.signal('SIGTERM')
      assert.equal((await w.ended()).code, 0, w.output)
    })

    it('a burst worker finds nothing runnable in a paused queue and exits; bad names are refused', async () => {
      await s.queue.pause(s.q)
      const id = await s.enqueue('tasks#tick')
      await s.burst()
      assert.equal((await s.get(id)).status, 'queued')
      await s.queue.resume(s.q)
      await s.burst()
      assert.equal((await s.get(id)).status, 'completed')

      const bad = s.sq(['pause', 'no spaces'])
      const exit = await bad.ended()
      assert.equal(exit.code, 2)
      assert.equal(bad.stderr, 'sq: queue name "no spaces" may hold only letters, digits, _ . and -\n')
      const missing = s.sq(['resume'])
      assert.equal((await missing.ended()).code, 2)
    })
  })
}
