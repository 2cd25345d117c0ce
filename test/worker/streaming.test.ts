import assert from 'node:assert/strict'
import fs from 'node:fs'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { waitFor } from '../helpers/wait.js'
import { workerSuite } from '../helpers/worker.js'
import { TASKS } from './fixtures.js'

/** Output and log reach the database while the task runs, and each run's log is its own (SPEC §2, §6, §7). */
for (const dialect of DIALECTS) {
  describeOn(dialect, `worker streaming (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS })

    it("shows a generator's output while it runs, in sq show, sq show --follow and sq enqueue --wait", async () => {
      const gate = s.file('gate')
      const worker = s.worker(['--concurrency', '2'])
      const id = await s.enqueue('tasks#gated', { gate })
      await s.waitForStatus(id, ['progress'])
      await waitFor(async () => (await s.get(id)).output === 'part one;', 5000, 'the first yield in the database')

      const shown = s.sq(['show', id, '--json'])
      assert.equal((await shown.ended()).code, 0, shown.output)
      const mid = JSON.parse(shown.stdout)
      assert.equal(mid.status, 'progress')
      assert.equal(mid.output, 'part one;')
      assert.equal(mid.finished, null)

      const follow = s.sq(['show', id.slice(0, 8), '--follow'])
      const wait = s.sq(['enqueue', 'tasks#gated', '--queue', s.q, '--args', JSON.stringify({ gate }), '--wait'])
      await follow.waitForOutput(/part one;/)
      await wait.waitForOutput(/part one;/)
      assert.equal(follow.result, undefined, 'sq show --follow is still following')
      assert.equal(wait.result, undefined, 'sq enqueue --wait is still waiting')

      fs.writeFileSync(gate, '')
      assert.deepEqual(await follow.ended(), { code: 0, signal: null }, follow.output)
      assert.equal(follow.stdout.trim(), 'part one; part two')
      assert.deepEqual(await wait.ended(), { code: 0, signal: null }, wait.output)
      assert.equal(wait.stdout.trim(), 'part one; part two')

      const done = await s.waitForStatus(id)
      assert.equal(done.status, 'completed')
      assert.equal(done.output, 'part one; part two')
      worker.signal('SIGTERM')
      assert.equal((await worker.ended()).code, 0, worker.output)
    })

    it('sq enqueue --wait and sq show --follow exit 1 when the task fails', async () => {
      const gate = s.file('gate')
      const worker = s.worker()
      const id = await s.enqueue('tasks#gatedFail', { gate })
      await s.waitForStatus(id, ['progress'])
      const follow = s.sq(['show', id, '--follow'])
      const wait = s.sq(['enqueue', 'tasks#boom', '--queue', s.q, '--wait'])
      fs.writeFileSync(gate, '')
      const f = await follow.ended()
      assert.equal(f.code, 1, follow.output)
      assert.match(follow.stderr, /failed: Error: failed after the gate/)
      const w = await wait.ended()
      assert.equal(w.code, 1, wait.output)
      assert.match(wait.stderr, /failed: Error: boom: the task broke/)
      worker.signal('SIGTERM')
      assert.equal((await worker.ended()).code, 0, worker.output)
    })

    it('gives each task of a reused process only the log it printed (console.log, console.error, stdout.write)', async () => {
      const a = await s.enqueue('tasks#chatty', { name: 'A' })
      const b = await s.enqueue('tasks#chatty', { name: 'B' })
      const c = await s.enqueue('tasks#chatty', { name: 'C' })
      await s.burst(['--concurrency', '1'])
      const tasks = await Promise.all([a, b, c].map((id) => s.get(id)))
      for (const t of tasks) assert.equal(t.status, 'completed', t.error ?? '')
      assert.equal(
        new Set(tasks.map((t) => t.output)).size,
        1,
        `all three ran in one process: ${tasks.map((t) => t.output)}`,
      )
      for (const [t, name] of [
        [tasks[0]!, 'A'],
        [tasks[1]!, 'B'],
        [tasks[2]!, 'C'],
      ] as const) {
        const lines = t.log!.split('\n').filter(Boolean).sort()
        assert.deepEqual(lines, [`console.error from ${name}`, `console.log from ${name}`, `stdout.write from ${name}`])
      }
    })
  })
}
