import assert from 'node:assert/strict'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { isAlive, waitForExit, waitForFile } from '../helpers/wait.js'
import { workerSuite } from '../helpers/worker.js'

const TASKS = `
import fs from 'node:fs'
import { spawn } from 'node:child_process'

/** Starts a grandchild \`sleep\`, writes both pids, then never yields the event loop again. */
export function spin({ pidFile, childPidFile }) {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' })
  fs.writeFileSync(childPidFile, String(child.pid))
  fs.writeFileSync(pidFile, String(process.pid))
  for (;;) {}
}
export function pid() { return process.pid }
`

/** Kills what a failed test may have left behind: the task process's group. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // gone already
  }
}

/** The task process's life: it dies with its worker whatever the task does, and is replaced after N runs. */
for (const dialect of DIALECTS) {
  describeOn(dialect, `task processes (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS })

    it('a task in a busy loop dies with its grandchild promptly after a kill -9 of its worker', async () => {
      const worker = s.worker()
      await s.enqueue('tasks#spin', { pidFile: s.file('task.pid'), childPidFile: s.file('grandchild.pid') })
      const taskPid = Number(await waitForFile(s.file('task.pid'), 10_000))
      const grandchild = Number(await waitForFile(s.file('grandchild.pid'), 10_000))
      try {
        assert.ok(isAlive(taskPid) && isAlive(grandchild))
        worker.signal('SIGKILL')
        await worker.exit
        // The 'disconnect' handler never runs: the task holds the event loop. The watchdog thread does.
        // "Promptly" (SPEC §7): a few ms here, with room for a loaded machine.
        await waitForExit(taskPid, 5000, 'the busy task process to die with its worker')
        await waitForExit(grandchild, 5000, "the busy task's grandchild to die with it")
      } finally {
        killGroup(taskPid)
      }
    })

    it('--max-tasks-per-process 2 replaces each task process after two tasks', async () => {
      const ids = []
      for (let i = 0; i < 5; i++) ids.push(await s.enqueue('tasks#pid'))
      await s.burst(['--max-tasks-per-process', '2'])
      const pids = await Promise.all(
        ids.map(async (id) => {
          const t = await s.get(id)
          assert.equal(t.status, 'completed', t.error ?? '')
          return t.output!
        }),
      )
      const uses = new Map<string, number>()
      for (const pid of pids) uses.set(pid, (uses.get(pid) ?? 0) + 1)
      assert.ok(uses.size >= 3, `5 tasks ran in ${uses.size} processes: ${pids.join(', ')}`)
      for (const [pid, n] of uses) assert.ok(n <= 2, `process ${pid} ran ${n} tasks`)
    })

    it('--max-tasks-per-process 1: an edited task module takes effect at the next task', async () => {
      s.write(`${s.q}/edited.mjs`, "export default function () { return 'first version' }\n")
      const worker = s.worker(['--max-tasks-per-process', '1'])
      const first = await s.waitForStatus(await s.enqueue(`${s.q}/edited`))
      assert.equal(first.output, 'first version', first.error ?? '')
      s.write(`${s.q}/edited.mjs`, "export default function () { return 'second version' }\n")
      const second = await s.waitForStatus(await s.enqueue(`${s.q}/edited`))
      assert.equal(second.output, 'second version', second.error ?? '')
      worker.signal('SIGTERM')
      assert.equal((await worker.ended()).code, 0, worker.output)
    })
  })
}
