import assert from 'node:assert/strict'
import { DIALECTS } from '../helpers/db.js'
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
`

/** Kills what a failed test may have left behind: the task process's group. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // gone already
  }
}

/** The task process's life: it dies with its worker whatever the task does. */
for (const dialect of DIALECTS) {
  describe(`task processes (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS })

    it('a task in a busy loop dies with its grandchild within ~2 s of a kill -9 of its worker', async () => {
      const worker = s.worker()
      await s.enqueue('tasks#spin', { pidFile: s.file('task.pid'), childPidFile: s.file('grandchild.pid') })
      const taskPid = Number(await waitForFile(s.file('task.pid'), 10_000))
      const grandchild = Number(await waitForFile(s.file('grandchild.pid'), 1000))
      try {
        assert.ok(isAlive(taskPid) && isAlive(grandchild))
        worker.signal('SIGKILL')
        await worker.exit
        // The 'disconnect' handler never runs: the task holds the event loop. The watchdog thread does.
        await waitForExit(taskPid, 2000, 'the busy task process to die with its worker')
        await waitForExit(grandchild, 2000, "the busy task's grandchild to die with it")
      } finally {
        killGroup(taskPid)
      }
    })
  })
}
