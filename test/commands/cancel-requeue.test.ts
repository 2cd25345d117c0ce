import assert from 'node:assert/strict'
import { DIALECTS, useTestDatabase, type TestDatabase } from '../helpers/db.js'
import { assertOneLineError, insert, setStatus, sq, sqJson, sqOk, writeTaskModule, readTask } from '../helpers/sq.js'
import type { Dialect } from '../../src/storage/dialect.js'
import { appendChunks, claimTasks } from '../../src/storage/run-repository.js'

for (const dialect of DIALECTS) {
  describe(`sq cancel and sq requeue (${dialect})`, function () {
    const t = useTestDatabase(dialect, { setup: writeTaskModule })
    let db: TestDatabase
    let d: Dialect
    before(() => ({ db, d } = t))
    const show = (id: string) => readTask(d, id)

    it('cancels queued tasks, by id and from stdin with -', async () => {
      const [a, b, c] = await Promise.all([insert(d), insert(d), insert(d)])
      const [one, piped] = await Promise.all([
        sqOk(db, ['cancel', a!.slice(0, 8)]),
        sqOk(db, ['cancel', '-'], { input: `${b}\n${c}\n` }),
      ])
      assert.equal(one, `cancelled ${a}\n`)
      assert.equal(piped, `cancelled ${b}\ncancelled ${c}\n`)
      for (const id of [a!, b!, c!]) {
        const t = await show(id)
        assert.equal(t.status, 'cancelled')
        assert.ok(t.finished, 'finished is set')
      }
    })

    it('cancels a task in progress, keeping the output it had made', async () => {
      const id = await insert(d, { queue: 'cancel-me' })
      const [run] = await claimTasks(d, { workerId: 'w1', workerName: 'test:1', pid: 1, queues: ['cancel-me'], limit: 1 })
      assert.equal(run!.id, id)
      assert.ok(await appendChunks(d, { id, attempt: run!.attempts }, { output: 'half way\n' }))
      const results = await sqJson<Array<{ id: string; cancelled: boolean; was: string }>>(db, ['cancel', id])
      assert.deepEqual(results, [{ id, cancelled: true, was: 'progress' }])
      const t = await show(id)
      assert.equal(t.status, 'cancelled')
      assert.equal(t.output, 'half way\n')
    })

    it('exits 1 with one line for a task that has already ended, and refuses bad ids', async () => {
      const done = await insert(d)
      await setStatus(d, done, 'completed', { output: 'fine' })
      const [ended, unknown, malformed, none] = await Promise.all([
        sq(db, ['cancel', done]),
        sq(db, ['cancel', '00000000-0000-4000-8000-000000000000']),
        sq(db, ['cancel', 'abc']),
        sq(db, ['cancel']),
      ])
      assertOneLineError(ended, 1, /already ended/)
      assert.match(ended.stdout, /not cancelled .*completed/)
      assertOneLineError(unknown, 1, /no task/)
      assertOneLineError(malformed, 2, /malformed task id/)
      assertOneLineError(none, 2)
      assert.equal((await show(done)).status, 'completed')
    })

    it('requeues ended tasks by id, clearing output, error, log and worker', async () => {
      const [failed, completed] = await Promise.all([insert(d), insert(d)])
      await setStatus(d, failed!, 'failed', { output: 'partial', error: 'Error: boom', log: 'noise', worker: 'h:1' })
      await setStatus(d, completed!, 'completed', { output: 'all done', log: 'noise', worker: 'h:2' })
      const out = await sqOk(db, ['requeue', failed!, completed!.slice(0, 10)])
      assert.equal(out, `requeued ${failed}\nrequeued ${completed}\n`)
      for (const id of [failed!, completed!]) {
        const t = await show(id)
        assert.equal(t.status, 'queued')
        for (const field of ['output', 'error', 'log', 'worker', 'worker_pid', 'started', 'finished'] as const) {
          assert.equal(t[field], null, field)
        }
      }
    })

    it('requeues every task of a status with --status, and ids from stdin with -', async () => {
      const made = await Promise.all([insert(d), insert(d), insert(d), insert(d)])
      const [f1, f2, c1, q1] = made as [string, string, string, string]
      await setStatus(d, f1, 'failed', { error: 'x' })
      await setStatus(d, f2, 'failed', { error: 'y' })
      await setStatus(d, c1, 'cancelled')
      const byStatus = await sqJson<{ requeued: string[] }>(db, ['requeue', '--status', 'failed'])
      assert.deepEqual(new Set(byStatus.requeued), new Set([f1, f2]))
      assert.equal((await show(c1)).status, 'cancelled', 'other statuses untouched')
      assert.equal(await sqOk(db, ['requeue', '-'], { input: `${c1}\n` }), `requeued ${c1}\n`)
      for (const id of [f1, f2, c1, q1]) assert.equal((await show(id)).status, 'queued')
    })

    it('refuses to requeue queued tasks, and bad combinations of ids and --status', async () => {
      const queued = await insert(d)
      const [stillQueued, liveStatus, both, neither, badStatus] = await Promise.all([
        sq(db, ['requeue', queued]),
        sq(db, ['requeue', '--status', 'queued']),
        sq(db, ['requeue', queued, '--status', 'failed']),
        sq(db, ['requeue']),
        sq(db, ['requeue', '--status', 'borked']),
      ])
      assertOneLineError(stillQueued, 1, /queued or running/)
      assertOneLineError(liveStatus, 2, /queued/)
      assertOneLineError(both, 2, /not both/)
      assertOneLineError(neither, 2)
      assertOneLineError(badStatus, 2, /unknown status "borked"/)
    })
  })
}
