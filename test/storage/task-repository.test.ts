import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { DIALECTS, describeOn, useTestDatabase, type TestDatabase } from '../helpers/db.js'
import { age, newTask, setStatus } from '../helpers/sq.js'
import type { Backend } from '../../src/storage/backend.js'
import * as control from '../../src/storage/control-repository.js'
import * as tasks from '../../src/storage/task-repository.js'
import * as maintenance from '../../src/storage/task-maintenance.js'
import { appendChunks, claimTasks } from '../../src/storage/run-repository.js'
import { endRun } from '../../src/storage/run-verdict.js'

for (const dialect of DIALECTS) {
  describeOn(dialect, `task repository (${dialect})`, () => {
    const t = useTestDatabase(dialect, { clean: true })
    let db: TestDatabase
    let d: Backend
    before(() => ({ db, d } = t))

    it('inserts a task and reads it back with ISO UTC timestamps', async () => {
      const t = newTask({ argsJson: '{"a":{"b":[1,"ü"]}}', priority: -2, queue: 'q1', maxAttempts: 4 })
      assert.deepEqual(await tasks.insertTask(d, t), { id: t.id, created: true })
      const got = (await tasks.getTask(d, t.id))!
      assert.deepEqual(got.args, { a: { b: [1, 'ü'] } })
      assert.equal(got.status, 'queued')
      assert.equal(got.priority, -2)
      assert.equal(got.queue, 'q1')
      assert.equal(got.max_attempts, 4)
      assert.equal(got.attempts, 0)
      assert.match(got.created, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
      assert.ok(Math.abs(Date.parse(got.created) - Date.now()) < 60_000)
      assert.equal(await tasks.getTask(d, randomUUID()), undefined)
    })

    it('each insert writes its own values, whichever shape came first (delay, time, key)', async () => {
      // The INSERT is compiled once per handle and shape: a later task must not inherit an earlier one's.
      const at = '2031-05-06T07:08:09.123Z'
      const rows = [
        newTask({ runAt: { afterSeconds: 3600 }, queue: 'a', priority: 5, key: 'k1' }),
        newTask({ runAt: { at }, queue: 'b', maxAttempts: 3 }),
        newTask({ runAt: { afterSeconds: 0 }, argsJson: '{"n":2}' }),
        newTask({ runAt: { at: '2032-01-01T00:00:00.000Z' }, key: 'k2', priority: -1 }),
      ]
      for (const row of rows) assert.deepEqual(await tasks.insertTask(d, row), { id: row.id, created: true })
      const got = await Promise.all(rows.map(async (row) => (await tasks.getTask(d, row.id))!))
      assert.deepEqual(
        got.map((g) => [g.queue, g.priority, g.max_attempts, g.key, g.args]),
        [
          ['a', 5, 1, 'k1', {}],
          ['b', 0, 3, null, {}],
          ['default', 0, 1, null, { n: 2 }],
          ['default', -1, 1, 'k2', {}],
        ],
      )
      assert.equal(got[1]!.run_at, at)
      assert.equal(got[3]!.run_at, '2032-01-01T00:00:00.000Z')
      const delayed = Date.parse(got[0]!.run_at) - Date.parse(got[0]!.created)
      assert.ok(Math.abs(delayed - 3_600_000) < 1000, `run_at ${got[0]!.run_at} is an hour after ${got[0]!.created}`)
      assert.equal(got[2]!.run_at, got[2]!.created)
    })

    it('a key is unique among queued and running tasks only', async () => {
      const first = newTask({ key: 'k' })
      await tasks.insertTask(d, first)
      const results = await Promise.all([1, 2, 3].map(() => tasks.insertTask(d, newTask({ key: 'k' }))))
      for (const r of results) assert.deepEqual(r, { id: first.id, created: false })
      await setStatus(d, first.id, 'completed')
      const again = newTask({ key: 'k' })
      assert.deepEqual(await tasks.insertTask(d, again), { id: again.id, created: true })
    })

    it('finds ids by prefix, at most two so that ambiguity shows', async () => {
      const a = newTask({ id: 'aaaaaaaa-0000-4000-8000-000000000001' })
      const b = newTask({ id: 'aaaaaaaa-0000-4000-8000-000000000002' })
      await tasks.insertTask(d, a)
      await tasks.insertTask(d, b)
      assert.deepEqual(await tasks.findByIdPrefix(d, 'aaaaaaaa-0000-4000-8000-000000000002'), [b.id])
      assert.equal((await tasks.findByIdPrefix(d, 'aaaaaa')).length, 2)
      assert.deepEqual(await tasks.findByIdPrefix(d, 'bbbbbb'), [])
    })

    it('lists newest first by modified, with status, glob, literal search and since filters', async () => {
      const specs = [
        { task: 'reports/daily#build', out: 'done 100%' },
        { task: 'reports/weekly#build', out: 'a_b' },
        { task: 'mail#send', out: 'axb' },
      ]
      const ids: string[] = []
      for (const [i, s] of specs.entries()) {
        const t = newTask({ task: s.task })
        await tasks.insertTask(d, t)
        await setStatus(d, t.id, 'completed', { output: s.out })
        await age(d, t.id, (3 - i) * 60)
        ids.push(t.id)
      }
      const list = async (f: Partial<tasks.ListFilter>) =>
        (await tasks.listTasks(d, { limit: 50, ...f })).map((t) => t.id)
      assert.deepEqual(await list({}), [ids[2], ids[1], ids[0]])
      assert.deepEqual(await list({ taskPattern: 'reports/*' }), [ids[1], ids[0]])
      assert.deepEqual(await list({ taskPattern: 'reports/?aily#build' }), [ids[0]])
      assert.deepEqual(await list({ taskPattern: 'mail' }), [ids[2]])
      assert.deepEqual(await list({ search: 'a_b' }), [ids[1]], '_ is literal')
      assert.deepEqual(await list({ search: '100%' }), [ids[0]], '% is literal')
      assert.deepEqual(await list({ search: 'REPORTS' }), [ids[1], ids[0]])
      assert.deepEqual(await list({ since: new Date(Date.now() - 150_000).toISOString() }), [ids[2], ids[1]])
      assert.deepEqual(await list({ statuses: ['queued'] }), [])
      assert.deepEqual(await list({ limit: 1 }), [ids[2]])
    })

    it('purges only ended tasks before the cutoff, and never queued or running ones', async () => {
      const made = await Promise.all(
        ['completed', 'failed', 'cancelled', 'queued', 'progress'].map(async (status) => {
          const t = newTask()
          await tasks.insertTask(d, t)
          await setStatus(d, t.id, status as never)
          await age(d, t.id, 3600)
          return t.id
        }),
      )
      const all = ['completed', 'failed', 'cancelled', 'queued', 'progress'] as const
      const olderThanMs = 60_000
      assert.equal(await maintenance.purgeTasks(d, { statuses: [...all], olderThanMs, dryRun: true }), 3)
      assert.equal(await maintenance.purgeTasks(d, { statuses: [...all], olderThanMs: 7200_000, dryRun: false }), 0)
      assert.equal(await maintenance.purgeTasks(d, { statuses: [...all], olderThanMs, dryRun: false }), 3)
      const left = await tasks.listTasks(d, { limit: 50 })
      assert.deepEqual(new Set(left.map((t) => t.id)), new Set(made.slice(3)))
    })

    it("cancels a queued or running task in one decision, folding a running one's chunks; says what an ended one is", async () => {
      const [queued, running, ended] = [newTask(), newTask({ queue: 'cancel-running' }), newTask()]
      for (const t of [queued, running, ended]) await tasks.insertTask(d, t)
      const [run] = await claimTasks(d, {
        workerId: 'w',
        workerName: 'h:1',
        pid: 1,
        queues: ['cancel-running'],
        limit: 1,
      })
      assert.ok(await appendChunks(d, { id: running.id, claim: run!.claim }, { output: 'half ', log: 'noise' }))
      assert.ok(await appendChunks(d, { id: running.id, claim: run!.claim }, { output: 'way' }))
      await setStatus(d, ended.id, 'completed', { output: 'done' })

      assert.deepEqual(await control.cancelTask(d, queued.id), { cancelled: true, was: 'queued' })
      assert.deepEqual(await control.cancelTask(d, running.id), { cancelled: true, was: 'progress' })
      assert.deepEqual(await control.cancelTask(d, ended.id), { cancelled: false, status: 'completed' })
      assert.deepEqual(await control.cancelTask(d, queued.id), { cancelled: false, status: 'cancelled' })
      assert.equal(await control.cancelTask(d, randomUUID()), undefined)

      const q = (await tasks.getTask(d, queued.id))!
      assert.deepEqual([q.status, q.error, q.output], ['cancelled', null, null])
      assert.ok(q.finished)
      const r = (await tasks.getTask(d, running.id))!
      assert.deepEqual(
        [r.status, r.error, r.output, r.log],
        // The documented words (README, "What happens when…": `Cancelled by user`).
        ['cancelled', 'Cancelled by user', 'half way', 'noise'],
      )
      assert.ok(r.finished)
      assert.equal(
        (await d.db.selectFrom('sq_task_chunks').selectAll().where('task_id', '=', running.id).execute()).length,
        0,
      )
      assert.equal(
        await endRun(d, { id: running.id, claim: run!.claim }, { status: 'completed' }),
        false,
        'the run lost the task',
      )
      assert.equal((await tasks.getTask(d, ended.id))!.output, 'done')
    })

    it('concurrent cancels of one running task: exactly one cancels it, the others see it cancelled', async () => {
      const t = newTask({ queue: 'cancel-race' })
      await tasks.insertTask(d, t)
      await claimTasks(d, { workerId: 'w', workerName: 'h:1', pid: 1, queues: ['cancel-race'], limit: 1 })
      const outcomes = await Promise.all(Array.from({ length: 6 }, () => control.cancelTask(d, t.id)))
      assert.equal(outcomes.filter((o) => o?.cancelled).length, 1, JSON.stringify(outcomes))
      for (const o of outcomes) if (!o?.cancelled) assert.deepEqual(o, { cancelled: false, status: 'cancelled' })
    })

    it('requeueEach requeues ended tasks and says what the others are', async () => {
      const [queued, running, failed] = [newTask(), newTask({ queue: 'requeue-running' }), newTask()]
      for (const t of [queued, running, failed]) await tasks.insertTask(d, t)
      await claimTasks(d, { workerId: 'w', workerName: 'h:1', pid: 1, queues: ['requeue-running'], limit: 1 })
      await setStatus(d, failed.id, 'failed', { error: 'e' })
      const results = await control.requeueEach(d, [queued.id, running.id, failed.id, failed.id, randomUUID()])
      assert.deepEqual(Object.fromEntries(results), {
        [queued.id]: { requeued: false, status: 'queued' },
        [running.id]: { requeued: false, status: 'progress' },
        [failed.id]: { requeued: true },
      })
    })

    it('requeues ended tasks only, clearing their results', async () => {
      const ended = newTask()
      const queued = newTask()
      await tasks.insertTask(d, ended)
      await tasks.insertTask(d, queued)
      await setStatus(d, ended.id, 'failed', { output: 'o', error: 'e', log: 'l', worker: 'w' })
      assert.deepEqual(await control.requeueTasks(d, [ended.id, queued.id]), [ended.id])
      const got = (await tasks.getTask(d, ended.id))!
      assert.equal(got.status, 'queued')
      assert.deepEqual(
        [got.output, got.error, got.log, got.worker, got.started, got.finished],
        [null, null, null, null, null, null],
      )
      assert.deepEqual(await control.requeueTasks(d, []), [])
      assert.deepEqual(
        await maintenance.idsWithStatus(d, ['queued']).then((x) => new Set(x)),
        new Set([ended.id, queued.id]),
      )
    })
  })
}
