import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { cleanEnv, SQ_BIN, type CliResult } from '../helpers/cli.js'
import { DIALECTS, describeOn, useTestDatabase, type TestDatabase } from '../helpers/db.js'
import { allTasks, insert, readTask, setStatus, writeTaskModule } from '../helpers/sq.js'
import type { Backend } from '../../src/storage/backend.js'

/**
 * Runs a shell pipeline as a user types it, with `sq` standing for the real binary and the test
 * database in SQ_DATABASE_URL. `set -e`: a failing `sq` stops the script before its last line.
 */
function pipeline(db: TestDatabase, script: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `set -e\nsq() { "$SQ_NODE" "$SQ_BIN" "$@"; }\n${script}`], {
      cwd: db.dir,
      env: { ...cleanEnv(), SQ_DATABASE_URL: db.url, SQ_NODE: process.execPath, SQ_BIN },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

/** Reading ids and args from stdin (SPEC §3, §10): a stream read to its end, whenever the data comes. */
for (const dialect of DIALECTS) {
  describeOn(dialect, `stdin of sq cancel -, sq requeue -, sq enqueue --args - (${dialect})`, function () {
    this.timeout(60_000)
    const t = useTestDatabase(dialect, { clean: true, setup: writeTaskModule })
    let db: TestDatabase
    let d: Backend
    before(() => ({ db, d } = t))

    // The producer sleeps so that sq is already reading when the ids arrive: reading stdin in one
    // synchronous call failed then with EAGAIN (the pipe was empty), exit 1.
    it('waits for a producer slower than its own start: cancel -, requeue -, --args -', async () => {
      const [a, b] = await Promise.all([insert(d), insert(d)])
      const cancelled = await pipeline(db, '(sleep 1; sq list --status queued -q) | sq cancel -\necho survived')
      assert.equal(cancelled.code, 0, cancelled.stderr)
      assert.equal(cancelled.stderr, '')
      assert.match(cancelled.stdout, /survived\n$/)
      for (const id of [a, b]) assert.equal((await readTask(d, id)).status, 'cancelled')

      const [requeued, enqueued] = await Promise.all([
        pipeline(db, '(sleep 1; sq list --status cancelled -q) | sq requeue -'),
        pipeline(db, `(sleep 1; echo '{"from": "a slow producer"}') | sq enqueue tasks#hello --args -`),
      ])
      assert.equal(requeued.code, 0, requeued.stderr)
      assert.equal(enqueued.code, 0, enqueued.stderr)
      for (const id of [a, b]) assert.equal((await readTask(d, id)).status, 'queued')
      assert.deepEqual((await readTask(d, enqueued.stdout.trim())).args, { from: 'a slow producer' })
    })

    it('takes an empty stdin for cancel - and requeue - as nothing to do (exit 0, safe under set -e)', async () => {
      const done = await insert(d)
      await setStatus(d, done, 'completed', { output: 'fine' })
      const r = await pipeline(
        db,
        [
          'sq list --status queued -q | sq cancel -',
          'sq list --status failed -q | sq requeue -',
          'sq cancel - --json < /dev/null',
          'sq requeue - --json < /dev/null',
          'echo survived',
        ].join('\n'),
      )
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stderr, '')
      assert.deepEqual(r.stdout.trim().split(/\s+/).join(' '), '[] { "requeued": [] } survived')
      assert.deepEqual(
        (await allTasks(d)).map((x) => x.status),
        ['completed'],
      )
    })

    it('still refuses `requeue -` together with --status (exit 2)', async () => {
      const r = await pipeline(db, 'echo | sq requeue - --status failed')
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, /^sq: give task ids or --status, not both/)
    })
  })
}
