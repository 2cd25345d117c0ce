import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { openQueue, type Queue } from '../../src/index.js'
import { DIALECTS } from '../helpers/db.js'
import { killLeftovers, SqProcess } from '../helpers/worker.js'
import { sleep, waitFor } from '../helpers/wait.js'

/**
 * SQLite on a full disk: reads work, every write fails with SQLITE_FULL. That is an outage like a
 * PostgreSQL restart — running tasks go on, their output and verdicts are kept and written once the disk
 * has room, nothing that finished runs again, and the claim loop backs off instead of spinning. The
 * database lives on a small tmpfs of the test's own (root only; elsewhere the test says why it is pending).
 */
const TASKS = `
import fs from 'node:fs'
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
/** Logs each execution to a file off the full disk, then yields numbered pieces. */
export async function* pieces({ n, runs }) {
  fs.appendFileSync(runs, 'ran\\n')
  for (let i = 0; i < n; i++) { await sleep(100); yield i + ';' }
}
`

function canMount(): boolean {
  return process.getuid?.() === 0 && fs.existsSync('/proc/filesystems')
}

if (DIALECTS.includes('sqlite')) {
  describe('worker on a full disk (sqlite)', function () {
    this.timeout(90_000)
    let dir: string
    let disk: string
    let queue: Queue

    before(function () {
      if (!canMount()) this.skip() // pending, visibly: mounting a tmpfs needs root
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-disk-full-'))
      disk = path.join(dir, 'disk')
      fs.mkdirSync(disk)
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', disk])
      fs.writeFileSync(path.join(dir, 'tasks.mjs'), TASKS)
    })

    after(async () => {
      await killLeftovers()
      await queue?.close()
      if (disk) execFileSync('umount', ['-l', disk])
      if (dir) fs.rmSync(dir, { recursive: true, force: true })
    })

    it('waits the outage out: no crash, no piece lost, no verdict dropped, nothing run twice, no spin', async () => {
      const db = path.join(disk, 'sq.db')
      queue = await openQueue({ db, root: dir })
      const ids: string[] = []
      for (let i = 0; i < 16; i++) {
        const runs = path.join(dir, `runs-${i}`)
        ids.push((await queue.enqueue({ task: 'tasks#pieces', args: { n: 30, runs }, maxAttempts: 3 })).id)
      }
      const worker = new SqProcess(['worker', '--db', db, '-c', '4'], { cwd: dir })
      await worker.waitForOutput(/started \S+ tasks#pieces/)

      // Fill the disk while four tasks stream their output, for 3 s: longer than a flush, a claim's
      // backoff and the tasks' own pieces.
      const filler = path.join(disk, 'filler')
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' })
      } catch {
        // dd stops at ENOSPC: the disk is full.
      }
      const fullAt = worker.stdout.length
      await sleep(3000)
      const duringOutage = worker.stdout.slice(fullAt)
      fs.rmSync(filler)

      for (const id of ids)
        await waitFor(
          async () => (await queue.get(id)).status === 'completed' || undefined,
          60_000,
          `task ${id} to complete`,
        )
      assert.equal(worker.result, undefined, `the worker died:\n${worker.output}`)
      const expected = Array.from({ length: 30 }, (_, i) => `${i};`).join('')
      for (const [i, id] of ids.entries()) {
        const task = await queue.get(id)
        assert.equal(task.output, expected, `task ${i} lost pieces:\n${worker.output}`)
        assert.equal(fs.readFileSync(path.join(dir, `runs-${i}`), 'utf8'), 'ran\n', `task ${i} ran more than once`)
        assert.equal(task.attempts, 1, `task ${i} spent ${task.attempts} attempts`)
      }
      assert.doesNotMatch(worker.output, /lost the verdict|could not record the end/)
      // Backoff from 0.2 s doubling: a handful of lines in 3 s, not hundreds.
      const claimLines = duringOutage.match(/cannot claim tasks/g)?.length ?? 0
      assert.ok(claimLines <= 8, `${claimLines} claim retries in 3 s of full disk:\n${duringOutage}`)
      // The background duties' repeated error is said once, not at each of their beats.
      const errorLines = duringOutage.match(/worker error/g)?.length ?? 0
      assert.ok(errorLines <= 3, `${errorLines} "worker error" lines in 3 s of full disk:\n${duringOutage}`)
      worker.signal('SIGTERM')
      assert.equal((await worker.ended()).code, 0, worker.output)
    })
  })
}
