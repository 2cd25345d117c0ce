import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
// The built module: its task process entry (child.js) sits beside it only in the build.
import { type RunResult, TaskProcess } from '../../dist/src/worker/task-process.js'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { waitForFile } from '../helpers/wait.js'
import { workerSuite } from '../helpers/worker.js'
import { TASKS } from './fixtures.js'

/**
 * A worker hands a task process several short runs in one message. The process runs them in order,
 * each with its own log; the ones it has not begun can be taken back (a cancel, a stop, a run stuck
 * behind a long one), and when it dies only the run it was on is charged: the rest never began.
 */
describe('a batch of runs in one task process', function () {
  this.timeout(30_000)
  let dir: string
  let proc: TaskProcess

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-batch-'))
    fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}')
    fs.writeFileSync(path.join(dir, 'tasks.mjs'), TASKS)
    proc = new TaskProcess({ maxMemoryMb: 256, cwd: dir })
    await proc.ready
  })

  afterEach(() => {
    proc.kill('stop', 0)
    fs.rmSync(dir, { recursive: true, force: true })
  })

  /** Hands the process one batch; records each run's log and when it began and ended. */
  function handBatch(runs: Array<{ id: string; task: string; args?: Record<string, unknown> }>) {
    const seen = runs.map(() => ({ log: '', began: 0, done: 0 }))
    let clock = 0
    const results = proc.run(
      runs.map(({ id, task, args = {} }, i) => ({
        request: {
          type: 'run',
          id,
          attempt: 1,
          task: `tasks#${task}`,
          args: JSON.stringify(args),
          root: dir,
          hooks: null,
        },
        handlers: {
          onStart: () => (seen[i]!.began = ++clock),
          onDone: () => (seen[i]!.done = ++clock),
          onOutput: () => {},
          onLog: (text: string) => (seen[i]!.log += text),
          onProgress: () => {},
        },
      })),
    )
    return { results, seen }
  }

  it('runs its runs one after another, in order, each with its own log', async () => {
    const names = ['a', 'b', 'c']
    const { results, seen } = handBatch(names.map((name) => ({ id: name, task: 'chatty', args: { name } })))
    const ends = await Promise.all(results)
    assert.deepEqual(
      ends.map((e) => e.kind),
      ['completed', 'completed', 'completed'],
    )
    for (const [i, name] of names.entries()) {
      const lines = seen[i]!.log.split('\n').filter(Boolean).sort()
      assert.deepEqual(lines, [`console.error from ${name}`, `console.log from ${name}`, `stdout.write from ${name}`])
    }
    // Each began when the one before it was done: never two at once.
    assert.deepEqual(
      seen.map((r) => [r.began, r.done]),
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
    )
  })

  it('takes back runs it has not begun: they end unstarted and never run; the others still do', async () => {
    const gate = path.join(dir, 'gate')
    const file = path.join(dir, 'ran')
    const { results } = handBatch([
      { id: 'gated', task: 'gated', args: { gate, pidFile: path.join(dir, 'gated.pid') } },
      { id: 'taken', task: 'note', args: { file, token: 'taken' } },
      { id: 'kept', task: 'note', args: { file, token: 'kept' } },
    ])
    await waitForFile(path.join(dir, 'gated.pid'), 10_000)
    proc.retract(['taken', 'gated']) // the gated run has begun: it is not taken back
    assert.deepEqual(await results[1], { kind: 'unstarted' })
    fs.writeFileSync(gate, '')
    assert.equal((await results[0]!).kind, 'completed')
    assert.equal((await results[2]!).kind, 'completed')
    assert.deepEqual(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean), ['kept'])
  })

  it('dies on its second run: the first keeps its result, the second is killed, the rest never began', async () => {
    const gate = path.join(dir, 'gate')
    const file = path.join(dir, 'ran')
    const { results } = handBatch([
      { id: 'first', task: 'note', args: { file, token: 'first' } },
      { id: 'second', task: 'gated', args: { gate, pidFile: path.join(dir, 'gated.pid') } },
      { id: 'third', task: 'note', args: { file, token: 'third' } },
    ])
    await waitForFile(path.join(dir, 'gated.pid'), 10_000)
    proc.stop('second', 'timeout', 0)
    const ends: RunResult[] = await Promise.all(results)
    assert.deepEqual(
      ends.map((e) => e.kind),
      ['completed', 'killed', 'unstarted'],
    )
    assert.deepEqual(ends[1], { kind: 'killed', reason: 'timeout' })
    assert.deepEqual(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean), ['first'])
    assert.equal(proc.healthy, false)
  })
})

for (const dialect of DIALECTS) {
  describeOn(dialect, `batches in a worker (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS })

    /**
     * After six short runs have taught the running worker to batch, queues at once a task that waits
     * for `gate` and, behind it by priority, a note task per priority; resolves once the gated one runs.
     */
    async function gatedThenNotes(gate: string, file: string, priorities: number[]) {
      const warm = []
      for (let i = 0; i < 6; i++) warm.push(await s.enqueue('tasks#nothing'))
      for (const id of warm) await s.waitForStatus(id)
      const tasks = await s.queue.enqueueMany([
        { task: 'tasks#gated', args: { gate, pidFile: s.file('gated.pid') }, queue: s.q, priority: 3 },
        ...priorities.map((priority) => ({
          task: 'tasks#note',
          args: { file, token: `p${priority}` },
          queue: s.q,
          priority,
        })),
      ])
      await waitForFile(s.file('gated.pid'), 10_000)
      return tasks
    }

    it('a short task batched behind a long one runs in another free slot meanwhile', async () => {
      const w = s.worker(['--concurrency', '2'])
      const gate = s.file('gate')
      const ran = s.file('ran')
      const [gated, ...notes] = await gatedThenNotes(gate, ran, [2, 1, 0])
      for (const { id } of notes) assert.equal((await s.waitForStatus(id, ['completed'], 10_000)).status, 'completed')
      assert.equal((await s.get(gated!.id)).status, 'progress', 'the long task still runs')
      fs.writeFileSync(gate, '')
      assert.equal((await s.waitForStatus(gated!.id)).status, 'completed')
      assert.deepEqual(fs.readFileSync(ran, 'utf8').split('\n').filter(Boolean).sort(), ['p0', 'p1', 'p2'])
      w.signal('SIGTERM')
      assert.equal((await w.ended()).code, 0, w.output)
    })

    it('a stop gives back the runs batched behind a long one, uncharged, and lets the long one finish', async () => {
      const w = s.worker(['--concurrency', '1'])
      const gate = s.file('gate')
      const [gated, ...notes] = await gatedThenNotes(gate, s.file('ran'), [2, 1])
      w.signal('SIGTERM')
      await w.waitForOutput(/gave back 1 claimed task|gave back \d+ claimed tasks/)
      fs.writeFileSync(gate, '')
      assert.equal((await w.ended(15_000)).code, 0, w.output)
      assert.equal((await s.get(gated!.id)).status, 'completed')
      for (const { id } of notes) {
        const t = await s.get(id)
        assert.equal(t.status, 'queued', w.output)
        assert.equal(t.attempts, 0, 'given back without spending an attempt')
      }
      assert.equal(fs.existsSync(s.file('ran')), false, 'the given back tasks did not run')
    })
  })
}
