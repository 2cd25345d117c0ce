import assert from 'node:assert/strict'
import pg from 'pg'
import { claimTasks } from '../../src/storage/run-repository.js'
import { describeOn, PG_ADMIN_URL } from '../helpers/db.js'
import { waitFor } from '../helpers/wait.js'
import { workerSuite } from '../helpers/worker.js'
import { TASKS } from './fixtures.js'

/** A worker survives a database that goes away for a moment, and never strands a claim it lost. */
describeOn('postgres', 'worker resilience (postgres)', function () {
  this.timeout(60_000)
  const s = workerSuite('postgres', { 'tasks.mjs': TASKS })

  it('keeps working after its database connections are killed', async () => {
    const worker = s.worker()
    assert.equal((await s.waitForStatus(await s.enqueue('tasks#pid'))).status, 'completed')
    const name = new URL(s.db.url).pathname.slice(1)
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL })
    await admin.connect()
    // Every connection of the worker, its LISTEN client included.
    await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [name],
    )
    await admin.end()
    const after = await s.waitForStatus(await s.enqueue('tasks#pid'), undefined, 20_000)
    assert.equal(after.status, 'completed')
    worker.signal('SIGTERM')
    assert.equal((await worker.ended()).code, 0, worker.output)
  })

  it('gives back, uncharged, a task the database says it claimed but the worker never started', async () => {
    const worker = s.worker([], { SQ_HEARTBEAT_TIMEOUT: '3' })
    // Learn the worker's id from its registration, then claim a task in its name, as if the answer
    // of its own claim had been lost on the way back.
    const row = await waitFor(
      () => s.queue.backend.db.selectFrom('sq_workers').select(['id', 'name']).executeTakeFirst(),
      10_000,
      'the worker to register',
    )
    // In a queue the worker does not take from, so only this claim can take it.
    const { id } = await s.queue.enqueue({ task: 'tasks#pid', queue: 'elsewhere' })
    const [stray] = await claimTasks(s.queue.backend, {
      workerId: row.id,
      workerName: row.name,
      pid: 1,
      queues: ['elsewhere'],
      limit: 1,
    })
    assert.equal(stray?.id, id)
    const back = await s.waitForStatus(id, ['queued'], 30_000)
    assert.deepEqual([back.attempts, back.worker, back.started, back.error], [0, null, null, null])
    await worker.waitForOutput(/gave back 1 task\(s\) this worker claimed but never received/)
    worker.signal('SIGTERM')
    assert.equal((await worker.ended()).code, 0, worker.output)
  })
})
