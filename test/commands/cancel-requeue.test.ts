import assert from 'node:assert/strict'
import { sql } from 'kysely'
import { DIALECTS, describeOn, useTestDatabase, type TestDatabase } from '../helpers/db.js'
import { assertOneLineError, insert, setStatus, sq, sqJson, sqOk, writeTaskModule, readTask } from '../helpers/sq.js'
import type { Backend } from '../../src/storage/backend.js'
import { appendChunks, claimTasks } from '../../src/storage/run-repository.js'
import { endRun } from '../../src/storage/run-verdict.js'
import { waitFor } from '../helpers/wait.js'

for (const dialect of DIALECTS) {
  describeOn(dialect, `sq cancel and sq requeue (${dialect})`, () => {
    const t = useTestDatabase(dialect, { setup: writeTaskModule })
    let db: TestDatabase
    let d: Backend
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
      const [run] = await claimTasks(d, {
        workerId: 'w1',
        workerName: 'test:1',
        pid: 1,
        queues: ['cancel-me'],
        limit: 1,
      })
      assert.equal(run!.id, id)
      assert.ok(await appendChunks(d, { id, claim: run!.claim }, { output: 'half way\n' }))
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

    it('requeue says what each task it did not requeue is, and exits 1 for an unknown id', async () => {
      const [running, done] = [await insert(d, { queue: 'requeue-running' }), await insert(d)]
      await claimTasks(d, { workerId: 'w1', workerName: 'test:1', pid: 1, queues: ['requeue-running'], limit: 1 })
      await setStatus(d, done, 'completed')
      const [mixed, unknown] = await Promise.all([
        sq(db, ['requeue', running, done]),
        sq(db, ['requeue', '00000000-0000-4000-8000-000000000000']),
      ])
      assertOneLineError(mixed, 1, /1 of 2 tasks are queued or running and were not requeued/)
      assert.equal(mixed.stdout, `not requeued ${running}: in progress\nrequeued ${done}\n`)
      assertOneLineError(unknown, 1, /no task with id 00000000-0000-4000-8000-000000000000/)
    })

    it('cancel and requeue racing on running tasks whose runs end meanwhile: each exit code matches the final row', async function () {
      this.timeout(120_000)
      // Each task is running (claimed here, no worker), then three things race: `sq cancel`, `sq requeue`
      // and the end of its run. Whatever their order, each command must report what it did to the row.
      const queue = `race-${dialect}`
      const ids = await Promise.all(Array.from({ length: 8 }, () => insert(d, { queue })))
      const claimed = await claimTasks(d, {
        workerId: 'w1',
        workerName: 'test:1',
        pid: 1,
        queues: [queue],
        limit: ids.length,
      })
      assert.equal(claimed.length, ids.length)
      const raced = await Promise.all(
        claimed.map(async (run) => {
          const [cancel, requeue, ended] = await Promise.all([
            sq(db, ['cancel', run.id]),
            sq(db, ['requeue', run.id]),
            // Spread over the time the two commands take to start, so that the orders vary.
            new Promise((resolve) => setTimeout(resolve, Math.random() * 3000)).then(() =>
              endRun(d, { id: run.id, claim: run.claim }, { status: 'completed' }),
            ),
          ])
          return { id: run.id, cancel, requeue, ended, final: (await show(run.id)).status }
        }),
      )
      for (const { id, cancel, requeue, ended, final } of raced) {
        const story = `${id}: cancel ${cancel.code} ${cancel.stdout.trim()} | requeue ${requeue.code} ${requeue.stdout.trim()} | run ended: ${ended} | final ${final}`
        // A failed cancel saw the task ended (by its run: nothing else ends it here), never queued or running.
        if (cancel.code === 1) assert.equal(cancel.stdout, `not cancelled ${id}: already completed\n`, story)
        else assert.equal(cancel.code, 0, story)
        // A failed requeue saw the task still running (queued it is only after a requeue).
        if (requeue.code === 1) assert.equal(requeue.stdout, `not requeued ${id}: in progress\n`, story)
        else assert.equal(requeue.code, 0, story)
        const wasRunning = cancel.stdout === `cancelled ${id} (was running)\n`
        const expected =
          cancel.code === 1
            ? requeue.code === 0
              ? 'queued'
              : 'completed' // end, cancel refused, requeue (or not)
            : requeue.code === 1
              ? 'cancelled' // requeue refused, then cancel
              : wasRunning
                ? 'queued' // cancel, then requeue
                : 'cancelled' // end, requeue, then cancel of the queued task
        assert.equal(final, expected, story)
        assert.equal(
          ended,
          cancel.code === 1 || !wasRunning,
          `the run ended iff cancel found it ended or queued; ${story}`,
        )
      }
    })
  })
}

describeOn('postgres', 'sq cancel of a task that ends and is requeued while the cancel waits (postgres)', () => {
  const t = useTestDatabase('postgres', { setup: writeTaskModule })

  it('cancels the task it finds queued instead of saying "not cancelled: already queued"', async function () {
    this.timeout(60_000)
    const { db, d } = t
    const id = await insert(d, { queue: 'held' })
    await claimTasks(d, { workerId: 'w1', workerName: 'test:1', pid: 1, queues: ['held'], limit: 1 })
    // Another transaction holds the running task's row, so `sq cancel` waits on it where it writes; then
    // the run ends and the task is requeued (as a worker and `sq requeue` would) before the cancel goes on.
    const { cancel } = await d.db.transaction().execute(async (trx) => {
      await trx.updateTable('sq_tasks').set({ priority: 0 }).where('id', '=', id).execute()
      const cancel = sq(db, ['cancel', id])
      await waitFor(
        async () => {
          const waiting = await d.db
            .selectFrom(
              sql<{ query: string; wait_event_type: string | null; datname: string }>`pg_stat_activity`.as('a'),
            )
            .select('query')
            .where('wait_event_type', '=', 'Lock')
            .where(sql<boolean>`datname = current_database()`)
            .execute()
          return waiting.some((w) => /sq_tasks/.test(w.query))
        },
        20_000,
        'sq cancel to wait on the row',
      )
      await trx
        .updateTable('sq_tasks')
        .set({ status: 'completed', finished: new Date().toISOString() })
        .where('id', '=', id)
        .execute()
      await trx
        .updateTable('sq_tasks')
        .set({ status: 'queued', finished: null, started: null })
        .where('id', '=', id)
        .execute()
      // Wrapped: a promise returned as such would be awaited before the commit the cancel waits for.
      return { cancel }
    })
    const r = await cancel
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.equal(r.stdout, `cancelled ${id}\n`)
    assert.equal((await readTask(d, id)).status, 'cancelled')
  })
})
