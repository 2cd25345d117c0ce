import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runSq } from '../helpers/cli.js'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { assertOneLineError } from '../helpers/sq.js'
import { sleep } from '../helpers/wait.js'
import { workerSuite } from '../helpers/worker.js'

/**
 * An idle worker is woken by PostgreSQL's NOTIFY or by SQLite's watch of the `-wal` file. Its poll is set
 * to 30 s here, so a pickup within seconds can only come from the wake-up (with the default 0.1 s poll,
 * these tests would pass with the wake-up broken).
 */
const SLOW_POLL = { SQ_POLL_INTERVAL: '30' }
/** Wake-ups take milliseconds; this leaves room for a loaded machine and stays far below the poll. */
const PICKUP_MS = 5000

for (const dialect of DIALECTS) {
  describeOn(dialect, `waking an idle worker (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, { 'tasks.mjs': 'export function tick({ n }) { return "tick " + n }\n' })

    it('picks up each task enqueued while it is idle, from the library and from `sq enqueue`, long before its poll', async () => {
      const w = s.worker([], SLOW_POLL)
      await w.waitForOutput(/worker \S+ started/)
      for (let n = 1; n <= 3; n++) {
        // Idle long enough for its claim loop to be asleep (and, on SQLite, for checkpoints between tasks).
        await sleep(500)
        const enqueuedAt = Date.now()
        let id: string
        if (n === 2) {
          const cli = s.sq(['enqueue', 'tasks#tick', '--queue', s.q, '--args', '{"n":2}'])
          assert.equal((await cli.ended()).code, 0, cli.output)
          id = cli.stdout.trim()
        } else id = await s.enqueue('tasks#tick', { n })
        const done = await s.waitForStatus(id, ['completed'], PICKUP_MS)
        assert.equal(done.output, `tick ${n}`)
        assert.ok(Date.now() - enqueuedAt < PICKUP_MS, `task ${n} ran ${Date.now() - enqueuedAt} ms after enqueue`)
      }
      w.signal('SIGTERM')
      assert.equal((await w.ended()).code, 0, w.output)
    })

    it('runs a delayed task at its time, not at its next poll', async () => {
      const w = s.worker([], SLOW_POLL)
      await w.waitForOutput(/worker \S+ started/)
      await sleep(500)
      const { id } = await s.queue.enqueue({ task: 'tasks#tick', args: { n: 0 }, queue: s.q, delaySeconds: 2 })
      const done = await s.waitForStatus(id, ['completed'], PICKUP_MS + 2000)
      const late = Date.parse(done.started!) - Date.parse(done.run_at!)
      assert.ok(late >= 0 && late < 1000, `started ${late} ms after its run_at`)
      w.signal('SIGTERM')
      assert.equal((await w.ended()).code, 0, w.output)
    })
  })
}

describe('the idle poll setting', () => {
  it('SQ_POLL_INTERVAL must be a number of seconds above 0: one line naming it, exit 2', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-poll-'))
    for (const value of ['0', 'soon', '-1']) {
      const r = await runSq(['worker', '--burst'], { cwd: dir, env: { SQ_POLL_INTERVAL: value } })
      assertOneLineError(r, 2, new RegExp(`pollInterval from SQ_POLL_INTERVAL must be .*got "${value}"`))
    }
    // Refused before anything was opened: no database file was made.
    assert.deepEqual(fs.readdirSync(dir), [])
    fs.rmSync(dir, { recursive: true })
  })
})
