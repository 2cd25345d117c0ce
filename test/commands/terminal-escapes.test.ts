import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { insertTask } from '../../src/storage/task-repository.js'
import { registerWorker } from '../../src/storage/worker-repository.js'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { newTask } from '../helpers/sq.js'
import { workerSuite } from '../helpers/worker.js'

/**
 * Terminal control sequences in what the table holds (written by a task, or straight into the table)
 * never reach a terminal from sq's human output: a window title (OSC 0), a clipboard write (OSC 52), a
 * screen clear (CSI 2J), a C1 CSI. Each shows as a visible escape like `\x1b`, as `cat -v` would.
 */
const PAYLOAD = '\x1b]0;pwned\x07\x1b]52;c;cHduZWQ=\x07\x1b[2J\x9b31m'
const TASKS = `
export function shout() { return 'loud ${JSON.stringify(PAYLOAD).slice(1, -1)} end' }
export function evil() { throw new Error('bad ${JSON.stringify(PAYLOAD).slice(1, -1)} news') }
`

/** No raw control byte but newline and tab: what `cat -v` would show as ^[ or M-^[. */
function assertNoControl(text: string, what: string): void {
  const raw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.exec(text)
  assert.equal(
    raw,
    null,
    `${what} printed a raw control character ${JSON.stringify(raw?.[0])}:\n${JSON.stringify(text)}`,
  )
  assert.match(text, /\\x1b\]0;pwned\\x07/, `${what} shows the sequence as text`)
}

for (const dialect of DIALECTS) {
  describeOn(dialect, `terminal escapes in human output (${dialect})`, function () {
    this.timeout(90_000)
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS })

    it('sq show escapes the key, worker and queue of a row written directly', async () => {
      const id = (
        await insertTask(
          s.queue.backend,
          newTask({ task: 'tasks#shout', key: `key${PAYLOAD}`, queue: `q${PAYLOAD}`, argsJson: '{}' }),
        )
      ).id
      await s.queue.backend.db
        .updateTable('sq_tasks')
        .set({ worker: `host${PAYLOAD}:1` })
        .where('id', '=', id)
        .execute()
      const show = s.sq(['show', id])
      assert.equal((await show.ended()).code, 0, show.output)
      for (const field of ['key', 'queue', 'worker']) assert.match(show.stdout, new RegExp(`^${field}: .*\\\\x1b`, 'm'))
      assertNoControl(show.stdout, 'sq show')
    })

    // Only on SQLite: PostgreSQL's ids are of type uuid, where nothing but a UUID fits.
    if (dialect === 'sqlite')
      it('sq list escapes an id written directly, in the table and with -q', async () => {
        await insertTask(s.queue.backend, newTask({ id: `\x1b]0;pwned\x07-${randomUUID()}`, queue: s.q }))
        for (const args of [['list'], ['list', '-q']]) {
          const list = s.sq(args)
          assert.equal((await list.ended()).code, 0, list.output)
          const raw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.exec(list.stdout)
          assert.equal(raw, null, `sq ${args.join(' ')} printed a raw control character`)
          assert.match(list.stdout, /\\x1b\]0;/)
        }
      })

    it('sq stats escapes worker names', async () => {
      await registerWorker(s.queue.backend, {
        id: randomUUID(),
        name: `worker${PAYLOAD}`,
        host: 'h',
        pid: 1,
        queues: [s.q],
        concurrency: 1,
      })
      const stats = s.sq(['stats'])
      assert.equal((await stats.ended()).code, 0, stats.output)
      assertNoControl(stats.stdout, 'sq stats')
    })

    it("the worker's text log escapes task names and an error's first line", async () => {
      await insertTask(s.queue.backend, newTask({ task: `tasks#shout${PAYLOAD}`, queue: s.q }))
      await s.enqueue('tasks#evil')
      const w = await s.burst([], {}, { exit: 1 })
      assert.match(w.stdout, /failed \S+ in .*bad \\x1b/)
      assertNoControl(w.stdout + w.stderr, 'sq worker')
    })

    it('sq enqueue --wait escapes the output it follows and the error it ends with', async () => {
      const worker = s.worker()
      try {
        const ok = s.sq(['enqueue', 'tasks#shout', '--queue', s.q, '--wait'])
        assert.equal((await ok.ended()).code, 0, ok.output)
        assertNoControl(ok.stdout, 'sq enqueue --wait')
        const failed = s.sq(['enqueue', 'tasks#evil', '--queue', s.q, '--wait'])
        assert.equal((await failed.ended()).code, 1, failed.output)
        assertNoControl(failed.stderr, 'sq enqueue --wait (its error)')
      } finally {
        worker.signal('SIGTERM')
        await worker.ended()
      }
    })
  })
}
