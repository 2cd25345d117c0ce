import assert from 'node:assert/strict'
import { DIALECTS } from '../helpers/db.js'
import { UUID } from '../helpers/sq.js'
import { workerSuite } from '../helpers/worker.js'
import { TASKS } from './fixtures.js'

/**
 * `sq enqueue --wait` cannot hang a cron job silently (issue 22): it names the task on stderr, warns when
 * no worker serves the queue, gives up at --wait-timeout, and says at Ctrl-C what it leaves behind.
 */
for (const dialect of DIALECTS) {
  describe(`sq enqueue --wait, with no worker or stopped early (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS })

    /** The id `--wait` printed on stderr when it started waiting. */
    const waitedId = (stderr: string) => {
      const id = /^waiting for task (\S+)\n/.exec(stderr)?.[1]
      assert.match(id ?? '', UUID, `no "waiting for task ID" line first on stderr: ${stderr}`)
      return id!
    }

    it('with no live worker: the id and a warning on stderr; --wait-timeout exits 1 and leaves the task queued', async () => {
      for (const env of [{}, { SQ_CLI: 'oclif' }] as Record<string, string>[]) {
        const p = s.sq(['enqueue', 'tasks#text', '--queue', s.q, '--wait', '--wait-timeout', '2s'], env)
        assert.deepEqual(await p.ended(), { code: 1, signal: null }, p.output)
        const id = waitedId(p.stderr)
        assert.equal(p.stdout, '')
        const lines = p.stderr.trimEnd().split('\n')
        assert.equal(lines.length, 3, p.stderr)
        assert.equal(
          lines[1],
          `warning: no live worker takes tasks from queue "${s.q}": task ${id} stays queued until one starts`,
        )
        assert.match(
          lines[2]!,
          new RegExp(`^sq: gave up waiting after 2s \\(--wait-timeout\\): task ${id} is still queued`),
        )
        assert.equal((await s.get(id)).status, 'queued')
      }
    })

    it('with a live worker on the queue: no warning, the output, exit 0', async () => {
      const w = s.worker()
      await w.waitForOutput(/started:/)
      const p = s.sq(['enqueue', 'tasks#sleepy', '--arg', 'ms=300', '--queue', s.q, '--wait', '--wait-timeout', '1m'])
      assert.deepEqual(await p.ended(), { code: 0, signal: null }, p.output)
      assert.equal(p.stderr, `waiting for task ${waitedId(p.stderr)}\n`)
      assert.equal(p.stdout, 'slept 300\n')
      w.signal('SIGTERM')
      await w.ended()
    })

    it('Ctrl-C says which task is still queued, or still running, and exits 130', async () => {
      const queued = s.sq(['enqueue', 'tasks#text', '--queue', s.q, '--wait'])
      await queued.waitForOutput(/no live worker/)
      queued.signal('SIGINT')
      assert.deepEqual(await queued.ended(), { code: 130, signal: null }, queued.output)
      const id = waitedId(queued.stderr)
      assert.match(
        queued.stderr,
        new RegExp(
          `\\nsq: stopped waiting: task ${id} is still queued: a worker will still run it \\(sq cancel ${id} drops it\\)\\n$`,
        ),
      )
      assert.equal((await s.get(id)).status, 'queued')

      const w = s.worker()
      await s.waitForStatus(id, ['completed'])
      const running = s.sq(['enqueue', 'tasks#sleepy', '--arg', 'ms=5000', '--queue', s.q, '--wait'])
      await running.waitForOutput(/waiting for task/)
      const runningId = await s.waitForStatus(waitedId(running.stderr), ['progress'])
      running.signal('SIGINT')
      assert.deepEqual(await running.ended(), { code: 130, signal: null }, running.output)
      assert.match(
        running.stderr,
        new RegExp(`\\nsq: stopped waiting: task ${runningId.id} is still running \\(sq show --follow`),
      )
      await s.waitForStatus(runningId.id, ['completed'])
      w.signal('SIGTERM')
      await w.ended()
    })
  })
}

describe('sq enqueue --wait, when no worker appears for a while', function () {
  this.timeout(60_000)
  const s = workerSuite(DIALECTS[0]!, { 'tasks.mjs': TASKS })

  it('warns a second time after 15s, then gives up at --wait-timeout', async () => {
    const p = s.sq(['enqueue', 'tasks#text', '--queue', s.q, '--wait', '--wait-timeout', '17s'])
    assert.deepEqual(await p.ended(30_000), { code: 1, signal: null }, p.output)
    const lines = p.stderr.trimEnd().split('\n')
    assert.equal(lines.length, 4, p.stderr)
    assert.equal(lines[2], `warning: still no live worker for queue "${s.q}" after 15s`)
    assert.match(lines[3]!, /^sq: gave up waiting after 17s/)
  })
})
