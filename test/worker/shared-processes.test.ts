import assert from 'node:assert/strict'
import fs from 'node:fs'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { linkPackage } from '../helpers/package.js'
import { sleep, waitForFile } from '../helpers/wait.js'
import { workerSuite } from '../helpers/worker.js'

/**
 * Tasks for `--tasks-per-process`: each meets its siblings at a barrier (files in a dir), so that they can
 * only finish if they ran at once; `polite` stops when asked, `stubborn` does not.
 */
const TASKS = `
import fs from 'node:fs'
import path from 'node:path'
import { currentTask } from 'sq-queue'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
async function untilExists(file) {
  while (!fs.existsSync(file)) await sleep(20)
}

/** Logs, arrives at the barrier, waits there for all n, then yields its name and pid. */
export async function* meet({ dir, n, name }) {
  console.log('log of ' + name)
  fs.writeFileSync(path.join(dir, name), '')
  while (fs.readdirSync(dir).length < n) await sleep(20)
  process.stderr.write('err of ' + name + '\\n')
  yield { progress: { current: 1, total: 1, message: name } }
  yield name + ':'
  yield String(process.pid)
}

/** Says it started (when given a file to say it in), waits for the gate, then returns its pid. */
export async function gated({ gate, startFile }) {
  if (startFile) fs.writeFileSync(startFile, 'started')
  await untilExists(gate)
  return process.pid
}

/** Writes its pid, then waits until asked to stop and says why. */
export async function polite({ pidFile }) {
  const { signal } = currentTask()
  fs.writeFileSync(pidFile, String(process.pid))
  await new Promise((resolve) => signal.addEventListener('abort', resolve))
  console.log('asked to stop: ' + signal.reason.message)
  throw signal.reason
}

/** Writes its pid, then never stops. */
export async function stubborn({ pidFile }) {
  fs.writeFileSync(pidFile, String(process.pid))
  await new Promise(() => setInterval(() => {}, 1000))
}

/** Writes its pid, waits until each file of when exists, then ends its process with code. */
export async function exits({ pidFile, when, code }) {
  fs.writeFileSync(pidFile, String(process.pid))
  for (const file of when) await untilExists(file)
  process.exit(code)
}

/** Leaves a timer that writes after the run ended. */
export function leaveTimer() {
  setTimeout(() => console.log('written by a timer after its run'), 300)
  return 'returned'
}

export async function whoami() {
  const { id, task, attempt, signal } = currentTask()
  await new Promise((resolve) => setTimeout(resolve, 20))
  return { id, task, attempt, aborted: signal.aborted, afterAwait: currentTask().id }
}
`

/** Hooks that say, in the log, which task they were called for. */
const HOOKS = `
export function beforeJob(task) { console.log('hook beforeJob ' + task.id) }
export async function afterLoop(task, output, iteration) {
  await new Promise((resolve) => setTimeout(resolve, 10))
  console.log('hook afterLoop ' + task.id + ' ' + iteration)
}
export function onSuccess(task) { console.log('hook onSuccess ' + task.id) }
`

for (const dialect of DIALECTS) {
  describeOn(dialect, `many tasks per task process (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS, 'hooks.mjs': HOOKS })
    before(() => linkPackage(s.db.dir))

    it('-c 20 --tasks-per-process 20 runs 20 tasks at once in one process, each with its own log and output', async () => {
      const dir = s.file('barrier')
      fs.mkdirSync(dir)
      const names = Array.from({ length: 20 }, (_, i) => `t${i}`)
      const ids = await Promise.all(names.map((name) => s.enqueue('tasks#meet', { dir, n: 20, name })))
      await s.burst(['-c', '20', '--tasks-per-process', '20'])
      const pids = new Set<string>()
      for (const [i, id] of ids.entries()) {
        const t = await s.get(id)
        assert.equal(t.status, 'completed', t.error ?? '')
        const [name, pid] = t.output!.split(':')
        assert.equal(name, names[i])
        pids.add(pid!)
        assert.equal(t.log, `log of ${names[i]}\nerr of ${names[i]}\n`)
        assert.deepEqual(t.progress, { current: 1, total: 1, message: names[i] })
      }
      assert.equal(pids.size, 1, `the 20 tasks ran in processes ${[...pids].join(', ')}`)
    })

    it("runs each task's hooks in its own context: their lines land in that task's log", async () => {
      const dir = s.file('barrier')
      fs.mkdirSync(dir)
      const ids = await Promise.all(['a', 'b', 'c'].map((name) => s.enqueue('tasks#meet', { dir, n: 3, name })))
      await s.burst(['-c', '3', '--tasks-per-process', '3'], { SQ_HOOKS: 'hooks' })
      for (const id of ids) {
        const t = await s.get(id)
        assert.equal(t.status, 'completed', t.error ?? '')
        const hookLines = t.log!.split('\n').filter((line) => line.startsWith('hook'))
        const loops = [0, 1, 2].map((i) => `hook afterLoop ${id} ${i}`)
        assert.deepEqual(hookLines, [`hook beforeJob ${id}`, ...loops, `hook onSuccess ${id}`])
      }
    })

    it("what a shared process writes after a run ended goes to the worker's stdout, not to the run's log", async () => {
      const worker = s.worker(['--tasks-per-process', '2'])
      const id = await s.enqueue('tasks#leaveTimer')
      assert.equal((await s.waitForStatus(id)).output, 'returned')
      await worker.waitForOutput(/^written by a timer after its run$/m)
      assert.equal((await s.get(id)).log, null)
      worker.signal('SIGTERM')
      assert.equal((await worker.ended()).code, 0, worker.output)
    })

    for (const [mode, flags] of [
      ['one at a time', []],
      ['shared', ['-c', '2', '--tasks-per-process', '2']],
    ] as const) {
      it(`a task reads its id, reference and attempt from currentTask() (${mode})`, async () => {
        const ids = [await s.enqueue('tasks#whoami'), await s.enqueue('tasks#whoami')]
        await s.burst([...flags])
        for (const id of ids) {
          const t = await s.get(id)
          assert.equal(t.status, 'completed', t.error ?? '')
          const expected = { id, task: 'tasks#whoami', attempt: 1, aborted: false, afterAwait: id }
          assert.deepEqual(JSON.parse(t.output!), expected)
        }
      })
    }

    /**
     * A worker of 3 tasks per process runs `first` (polite or stubborn), then two siblings that wait for
     * `gate`, started 1.5 s later so that they are within their own time when the first one's runs out.
     */
    async function withSiblings(first: string, gate: string, flags: string[] = [], args: object = {}) {
      const id = await s.enqueue(`tasks#${first}`, { pidFile: s.file('first.pid'), ...args })
      const worker = s.worker(['-c', '3', '--tasks-per-process', '3', ...flags])
      const pid = await waitForFile(s.file('first.pid'), 10_000)
      await sleep(1500)
      const starts = [s.file('sibling0.started'), s.file('sibling1.started')]
      const siblings = [
        await s.enqueue('tasks#gated', { gate, startFile: starts[0] }),
        await s.enqueue('tasks#gated', { gate, startFile: starts[1] }),
      ]
      for (const file of starts) await waitForFile(file, 10_000)
      return { worker, id, pid, siblings }
    }

    /**
     * Opens the gate; each sibling completes, on in the first one's process (`pid`), or (`givenBack`) once
     * given back uncharged, in a new one. Then the worker stops cleanly.
     */
    async function siblingsComplete(
      { worker, pid, siblings }: Awaited<ReturnType<typeof withSiblings>>,
      gate: string,
      givenBack: boolean,
    ) {
      if (givenBack)
        for (const sibling of siblings)
          await worker.waitForOutput(
            new RegExp(`gave back ${sibling} in [0-9.]+s: its task process was killed for another`),
          )
      fs.writeFileSync(gate, '')
      for (const sibling of siblings) {
        const t = await s.waitForStatus(sibling)
        assert.equal(t.status, 'completed', t.error ?? '')
        if (givenBack) {
          assert.equal(t.attempts, 1, 'the give-back spent no attempt')
          assert.notEqual(t.output, pid, 'the sibling ran again in a new process')
        } else assert.equal(t.output, pid, "the sibling ran on in the first one's process")
      }
      worker.signal('SIGTERM')
      assert.equal((await worker.ended()).code, 0, worker.output)
    }

    it('a timed-out task that honours its AbortSignal times out; its process and siblings live on', async () => {
      const gate = s.file('gate')
      const run = await withSiblings('polite', gate, ['--timeout', '6'])
      const { id } = run
      const timedOut = await s.waitForStatus(id)
      assert.equal(timedOut.status, 'failed')
      assert.equal(timedOut.error, 'Task timed out after 6 seconds')
      assert.match(timedOut.log ?? '', /asked to stop: sq: the task timed out/)
      await siblingsComplete(run, gate, false)
    })

    it('a timed-out task that ignores its AbortSignal has its process killed; its siblings are given back and run', async () => {
      const gate = s.file('gate')
      const run = await withSiblings('stubborn', gate, ['--timeout', '6'])
      const { id } = run
      const timedOut = await s.waitForStatus(id)
      assert.equal(timedOut.status, 'failed')
      assert.equal(timedOut.error, 'Task timed out after 6 seconds')
      await siblingsComplete(run, gate, true)
    })

    it('sq cancel of a task in a shared process stops it and leaves its siblings running', async () => {
      const gate = s.file('gate')
      const run = await withSiblings('polite', gate)
      const { worker, id } = run
      const cancel = s.sq(['cancel', id])
      assert.equal((await cancel.ended()).code, 0, cancel.output)
      assert.equal((await s.waitForStatus(id)).status, 'cancelled')
      await worker.waitForOutput(new RegExp(`stopped ${id}: it was cancelled`))
      await siblingsComplete(run, gate, false)
    })

    it('sq cancel of a task that ignores its AbortSignal kills its process; its siblings are given back and run', async () => {
      const gate = s.file('gate')
      const run = await withSiblings('stubborn', gate)
      const { id } = run
      const cancel = s.sq(['cancel', id])
      assert.equal((await cancel.ended()).code, 0, cancel.output)
      assert.equal((await s.get(id)).status, 'cancelled')
      await siblingsComplete(run, gate, true)
    })

    it('a task that ends its shared process fails every run in it, each spending its attempt; the worker goes on', async () => {
      const gate = s.file('gate')
      const when = [s.file('sibling0.started'), s.file('sibling1.started')]
      const { worker, id, pid, siblings } = await withSiblings('exits', gate, [], { when, code: 3 })
      for (const ran of [id, ...siblings]) {
        const t = await s.waitForStatus(ran)
        assert.equal(t.status, 'failed')
        assert.equal(t.error, 'Worker subprocess exited with code 3')
        assert.equal(t.attempts, 1)
      }
      fs.writeFileSync(gate, '')
      const next = await s.waitForStatus(await s.enqueue('tasks#gated', { gate }))
      assert.equal(next.status, 'completed', next.error ?? '')
      assert.notEqual(next.output, pid, 'it ran in a new task process')
      worker.signal('SIGTERM')
      assert.equal((await worker.ended()).code, 0, worker.output)
    })

    it('one task per process (the default): a timed-out task is asked to stop before its process is killed', async () => {
      const polite = await s.enqueue('tasks#polite', { pidFile: s.file('polite.pid') })
      await s.burst(['--timeout', '1'], {}, { exit: 1 })
      const t = await s.get(polite)
      assert.equal(t.error, 'Task timed out after 1 seconds')
      assert.match(t.log ?? '', /asked to stop: sq: the task timed out/)
    })

    it('refuses a bad --tasks-per-process, SQ_TASKS_PER_PROCESS, or more than 256 processes, in one line', async () => {
      const cases: Array<[string[], Record<string, string>, RegExp]> = [
        [['--tasks-per-process', '0'], {}, /tasks-per-process/],
        [['--tasks-per-process', 'abc'], {}, /tasks-per-process/],
        [[], { SQ_TASKS_PER_PROCESS: 'abc' }, /tasksPerProcess from SQ_TASKS_PER_PROCESS must be a whole number/],
        [['-c', '1000'], {}, /--concurrency 1000 would start 1000 task processes \(at most 256\)/],
        [['-c', '1000', '--tasks-per-process', '3'], {}, /would start 334 task processes/],
      ]
      for (const [flags, env, message] of cases) {
        const w = s.worker(['--burst', ...flags], env)
        const exit = await w.ended()
        assert.equal(exit.code, 2, w.output)
        assert.match(w.stderr, message)
        assert.equal(w.stderr.trim().split('\n').length, 1, w.stderr)
      }
    })
  })
}
