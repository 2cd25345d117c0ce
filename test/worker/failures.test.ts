import assert from 'node:assert/strict'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { isAlive, waitForFile } from '../helpers/wait.js'
import { maxOverlap } from '../helpers/overlap.js'
import { workerSuite } from '../helpers/worker.js'
import { TASKS } from './fixtures.js'

/** Tasks that hang, exhaust memory or flood their output fail alone; the worker lives on (SPEC §7). */
for (const dialect of DIALECTS) {
  describeOn(dialect, `worker failure modes (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS })

    it('times a hanging task out after --timeout, kills its grandchild too, and runs the next task', async () => {
      const pidFile = s.file('task.pid')
      const childPidFile = s.file('grandchild.pid')
      const hung = await s.enqueue('tasks#hang', { pidFile, childPidFile })
      const next = await s.enqueue('tasks#pid')
      await s.burst(['--timeout', '1'], {}, { exit: 1 })
      const t = await s.get(hung)
      assert.equal(t.status, 'failed')
      assert.equal(t.error, 'Task timed out after 1 seconds')
      assert.ok(t.duration_ms! >= 1000 && t.duration_ms! < 8000, `duration_ms ${t.duration_ms}`)
      const taskPid = Number(await waitForFile(pidFile, 10_000))
      const grandchild = Number(await waitForFile(childPidFile, 10_000))
      assert.equal(isAlive(taskPid), false, 'the task process is gone')
      assert.equal(isAlive(grandchild), false, 'the sleep it spawned is gone')
      const after = await s.get(next)
      assert.equal(after.status, 'completed')
      assert.notEqual(Number(after.output), taskPid, 'the timed-out process was replaced')
    })

    it('fails a task that exhausts --max-memory, cuts floods at SQ_MAX_OUTPUT_SIZE, and goes on', async () => {
      const hog = await s.enqueue('tasks#hog')
      const flood = await s.enqueue('tasks#flood', { lines: 2000 })
      const floodOutput = await s.enqueue('tasks#floodOutput', { chunks: 500 })
      const next = await s.enqueue('tasks#text')
      await s.burst(['--max-memory', '64'], { SQ_MAX_OUTPUT_SIZE: '5000' }, { exit: 1 })
      const [h, f, o, n] = await Promise.all([s.get(hog), s.get(flood), s.get(floodOutput), s.get(next)])

      assert.equal(h.status, 'failed')
      assert.match(h.error!, /out of memory|SIGABRT|exited with code/)
      assert.match(h.log ?? '', /heap/i, 'V8 says why in the log')

      assert.equal(f.status, 'completed')
      assert.equal(f.output, 'flooded')
      assert.match(f.log!, /\[sq: log truncated at maxOutputSize \(5000 bytes\)\]\n$/)
      assert.ok(f.log!.startsWith(`${'x'.repeat(99)}\n`), 'the log keeps its beginning')
      assert.ok(Buffer.byteLength(f.log!) < 5100, `log cut near 5000 bytes, got ${Buffer.byteLength(f.log!)}`)

      assert.equal(o.status, 'completed')
      assert.match(o.output!, /\[sq: output truncated at maxOutputSize \(5000 bytes\)\]\n$/)
      assert.ok(o.output!.startsWith('y'.repeat(5000)))

      assert.equal(n.status, 'completed', 'the worker lived on')
    })

    it('never runs more than --concurrency tasks at once', async () => {
      const ids: string[] = []
      for (let i = 0; i < 6; i++) ids.push(await s.enqueue('tasks#sleepy', { ms: 400 }))
      await s.burst(['--concurrency', '2'])
      const tasks = await Promise.all(ids.map((id) => s.get(id)))
      for (const t of tasks) assert.equal(t.status, 'completed')
      // started/finished say when each task process really ran (not when the verdict was written).
      assert.ok(maxOverlap(tasks) <= 2, `at most 2 runs overlap in time, saw ${maxOverlap(tasks)}`)
      assert.ok(maxOverlap(tasks) === 2, `two run at once: ${maxOverlap(tasks)}`)
    })
  })
}
