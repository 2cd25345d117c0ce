import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { cleanEnv, SQ_BIN } from '../helpers/cli.js'
import { appendChunks, claimTasks } from '../../src/storage/run-repository.js'
import { endRun } from '../../src/storage/run-verdict.js'
import { DIALECTS, describeOn, useTestDatabase, type TestDatabase } from '../helpers/db.js'
import {
  assertOneLineError,
  enqueue,
  insert,
  RECORD_FIELDS,
  setStatus,
  sq,
  sqJson,
  sqOk,
  writeTaskModule,
} from '../helpers/sq.js'
import type { Backend } from '../../src/storage/backend.js'
import type { Task } from '../../src/types.js'

for (const dialect of DIALECTS) {
  describeOn(dialect, `sq show (${dialect})`, () => {
    const t = useTestDatabase(dialect, { setup: writeTaskModule })
    let db: TestDatabase
    let d: Backend
    let id: string

    before(async () => {
      ;({ db, d } = t)
      id = await enqueue(db, 'tasks#hello', [
        '--args',
        '{"name":"\\u001b[2Jevil\\u0007","n":1}',
        '--key',
        'k1',
        '--priority',
        '3',
      ])
      await setStatus(d, id, 'failed', {
        output: 'line one\n\u001b]0;pwned\u0007title\nline two\n',
        error: 'Error: boom\n    at fail (tasks.ts:3:9)',
        log: 'said \u001b[31mred\u001b[0m\n',
        worker: 'host-a:4242',
      })
      // Two ids that share their first 8 characters, to make a prefix ambiguous.
      for (const suffix of ['1', '2']) await insert(d, { id: `abcdef12-0000-4000-8000-00000000000${suffix}` })
    })

    it('--json prints every field, by full id and by a unique prefix of 6+ characters', async () => {
      const [full, prefix6, prefix8, upper] = await Promise.all([
        sqJson<Record<string, unknown>>(db, ['show', id]),
        sqJson<Task>(db, ['show', id.slice(0, 6)]),
        sqJson<Task>(db, ['show', id.slice(0, 8)]),
        sqJson<Task>(db, ['show', id.toUpperCase()]),
      ])
      assert.deepEqual(Object.keys(full).sort(), [...RECORD_FIELDS, 'runs'].sort())
      const { attempts: attempt, worker, started, finished, error } = full as unknown as Task
      assert.deepEqual(
        full.runs,
        [{ attempt, worker, started, finished, outcome: 'failed', error }],
        'its one run is the record',
      )
      assert.equal(full.id, id)
      assert.equal(full.status, 'failed')
      assert.deepEqual(full.args, { name: '\u001b[2Jevil\u0007', n: 1 })
      assert.equal(full.output, 'line one\n\u001b]0;pwned\u0007title\nline two\n', '--json keeps the raw text')
      assert.equal(full.error, 'Error: boom\n    at fail (tasks.ts:3:9)')
      assert.equal(full.worker, 'host-a:4242')
      assert.equal(full.key, 'k1')
      assert.equal(full.priority, 3)
      assert.match(full.finished as string, /Z$/)
      for (const t of [prefix6, prefix8, upper]) assert.equal(t.id, id)
    })

    it('prints a readable form with control characters escaped', async () => {
      const out = await sqOk(db, ['show', id.slice(0, 8)])
      assert.doesNotMatch(out, /[\u0000-\u0008\u000b-\u001f\u007f]/, 'no raw control characters reach the terminal')
      assert.match(out, new RegExp(`^id:\\s+${id}$`, 'm'))
      assert.match(out, /^status:\s+Failed$/m)
      assert.match(out, /^task:\s+tasks#hello$/m)
      assert.match(out, /^args:\s+\{"name":"\\u001b\[2Jevil\\u0007","n":1\}$/m)
      assert.match(out, /^worker:\s+host-a:4242$/m)
      assert.match(out, /^output:\nline one\n\\x1b\]0;pwned\\x07title\nline two$/m)
      assert.match(out, /^error:\nError: boom\n {4}at fail/m)
      assert.match(out, /^log:\nsaid \\x1b\[31mred\\x1b\[0m$/m)
    })

    it('refuses malformed and ambiguous ids with exit 2, and unknown ids with exit 1', async () => {
      const [short, junk, ambiguous, unknownFull, unknownPrefix, missing] = await Promise.all([
        sq(db, ['show', 'abc']),
        sq(db, ['show', 'zzzzzz!']),
        sq(db, ['show', 'abcdef12']),
        sq(db, ['show', '00000000-0000-4000-8000-000000000000']),
        sq(db, ['show', 'fedcba98']),
        sq(db, ['show']),
      ])
      assertOneLineError(short, 2, /malformed task id "abc"/)
      assertOneLineError(junk, 2, /malformed task id/)
      assertOneLineError(ambiguous, 2, /ambiguous/)
      assertOneLineError(unknownFull, 1, /no task with id 00000000-0000-4000-8000-000000000000/)
      assertOneLineError(unknownPrefix, 1, /no task with id fedcba98/)
      assertOneLineError(missing, 2)
      for (const r of [short, junk, ambiguous, unknownFull, unknownPrefix]) assert.equal(r.stdout, '')
    })

    it('--follow prints the output of an ended task and exits 0 if it completed, 1 if not', async () => {
      const done = await insert(d, { queue: 'follow-done' })
      await setStatus(d, done, 'completed', { output: 'all \u001b[1mgood\n' })
      const [ok, bad] = await Promise.all([sq(db, ['show', done, '--follow']), sq(db, ['show', id, '--follow'])])
      assert.equal(ok.code, 0, ok.stderr)
      assert.equal(ok.stdout, 'all \\x1b[1mgood\n')
      assertOneLineError(bad, 1, /failed: Error: boom/)
      assert.match(bad.stdout, /^line one\n/)
    })

    it('shows the runs of a task that ran more than once: --json lists each, the readable form a line each', async () => {
      const twice = await insert(d, { queue: 'twice', maxAttempts: 2 })
      const claim = async () =>
        (await claimTasks(d, { workerId: 'w', workerName: 'host-b:7', pid: 7, queues: ['twice'], limit: 1 }))[0]!
      const first = await claim()
      await endRun(
        d,
        { id: twice, claim: first.claim },
        { status: 'queued', error: 'Error: first try', retryAfterSeconds: 0 },
      )
      const second = await claim()
      await endRun(d, { id: twice, claim: second.claim }, { status: 'completed' })
      const shown = await sqJson<Task & { runs: Array<Record<string, unknown>> }>(db, ['show', twice])
      assert.deepEqual(
        shown.runs.map((r) => [r.attempt, r.outcome, r.worker, r.error]),
        [
          [1, 'retry', 'host-b:7', 'Error: first try'],
          [2, 'completed', 'host-b:7', null],
        ],
      )
      assert.deepEqual(Object.keys(shown.runs[0]!).sort(), [
        'attempt',
        'error',
        'finished',
        'outcome',
        'started',
        'worker',
      ])
      const human = await sqOk(db, ['show', twice])
      assert.match(
        human,
        /^runs:\n {2}1\. attempt 1, retry, host-b:7, \S+ → \S+: Error: first try\n {2}2\. attempt 2, completed, /m,
      )
    })

    it('--follow streams the output of a running task as it grows, then exits with its verdict', async function () {
      this.timeout(60_000)
      const running = await insert(d, { queue: 'follow-live' })
      const [run] = await claimTasks(d, {
        workerId: 'w',
        workerName: 'test:1',
        pid: 1,
        queues: ['follow-live'],
        limit: 1,
      })
      const ref = { id: running, claim: run!.claim }
      await appendChunks(d, ref, { output: 'first\n' })
      const child = spawn(process.execPath, [SQ_BIN, 'show', running, '--follow'], {
        cwd: db.dir,
        env: { ...cleanEnv(), SQ_DATABASE_URL: db.url },
      })
      let stdout = ''
      let stderr = ''
      child.stderr.on('data', (c) => (stderr += c))
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
      await new Promise<void>((resolve) =>
        child.stdout.on('data', (c) => {
          stdout += c
          if (stdout.includes('first\n')) resolve()
        }),
      )
      await appendChunks(d, ref, { output: 'second\n' })
      await endRun(d, ref, { status: 'completed' })
      assert.equal(await exited, 0, stderr)
      assert.equal(stdout, 'first\nsecond\n', 'each piece printed once, in order')
    })
  })
}
