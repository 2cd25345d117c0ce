import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { Backend } from '../../src/storage/backend.js'
import { claimTasks } from '../../src/storage/run-repository.js'
import { cancelTask, requeueTasks } from '../../src/storage/control-repository.js'
import pg from 'pg'
import { describeOn, PG_ADMIN_URL, useTestDatabase, type TestDatabase } from '../helpers/db.js'
import { insertTasks } from '../../src/storage/bulk-insert.js'
import { insert, newTask } from '../helpers/sq.js'
import { waitFor } from '../helpers/wait.js'

// Notifications come from triggers (migrations 002 and 004) on PostgreSQL; on SQLite, a watch of the WAL.
describeOn('postgres', 'status change notifications (postgres)', () => {
  const t = useTestDatabase('postgres')
  let db: TestDatabase
  let d: Backend
  const heard: string[] = []
  const stops: Array<() => Promise<void>> = []

  before(async () => {
    ;({ db, d } = t)
    for (const channel of ['sq_queued', 'sq_ended', 'sq_cancel']) {
      stops.push(await d.listen(channel, (payload) => heard.push(`${channel}:${payload}`)))
    }
  })
  after(async () => {
    await Promise.all(stops.map((stop) => stop()))
  })

  it('notifies a new task (its queue, 1 and its id), the end of a cancelled run, and a requeue (its queue)', async () => {
    const id = await insert(d, { task: 't#x', queue: 'mail' })
    await waitFor(() => heard.includes(`sq_queued:mail 1 ${id}`), 10_000)
    await claimTasks(d, { workerId: 'w', workerName: 'h:1', pid: 1, queues: ['mail'], limit: 1 })
    assert.equal((await cancelTask(d, id))?.cancelled, true)
    await waitFor(() => heard.includes(`sq_cancel:${id}`) && heard.includes(`sq_ended:${id}`), 10_000)
    heard.length = 0
    assert.deepEqual(await requeueTasks(d, [id]), [id])
    await waitFor(() => heard.includes('sq_queued:mail'), 10_000)
    assert.ok(!heard.some((h) => h.startsWith('sq_ended') || h.startsWith('sq_cancel')), heard.join(', '))
  })

  it('tells each queue a bulk insert fills how many it got, and nothing of rows it did not insert', async () => {
    const held = await insert(d, { task: 't#x', queue: 'held', key: 'k' })
    // A later transaction's notification arrives after every earlier one's: the end of what to hear.
    const heardUpTo = async (marker: string) => {
      const id = await insert(d, { task: 't#x', queue: marker })
      await waitFor(() => heard.includes(`sq_queued:${marker} 1 ${id}`), 10_000)
      return heard.filter((h) => h !== `sq_queued:${marker} 1 ${id}`).sort()
    }
    await waitFor(() => heard.includes(`sq_queued:held 1 ${held}`), 10_000)
    heard.length = 0
    const batch = [
      ...Array.from({ length: 3 }, () => newTask({ queue: 'mail' })),
      ...Array.from({ length: 2 }, () => newTask({ queue: 'reports' })),
      newTask({ queue: 'held', key: 'k' }),
    ]
    const results = await insertTasks(d, batch)
    assert.deepEqual(
      results.map((r) => r.created),
      [true, true, true, true, true, false],
    )
    assert.deepEqual(await heardUpTo('marker1'), ['sq_queued:mail 3', 'sq_queued:reports 2'])
    heard.length = 0
    // Every row refused (its key is held): nothing was queued, so no worker is woken.
    await insertTasks(d, [newTask({ queue: 'held', key: 'k' })])
    assert.deepEqual(await heardUpTo('marker2'), [])
    heard.length = 0
    // Without keys (COPY), and delayed (INSERT … SELECT): each queue once with its count, as with keys.
    await insertTasks(d, [newTask({ queue: 'bulk-a' }), newTask({ queue: 'bulk-b' }), newTask({ queue: 'bulk-a' })])
    assert.deepEqual(await heardUpTo('marker3'), ['sq_queued:bulk-a 2', 'sq_queued:bulk-b 1'])
    heard.length = 0
    await insertTasks(d, [newTask({ queue: 'later', runAt: { afterSeconds: 60 } })])
    assert.deepEqual(await heardUpTo('marker4'), ['sq_queued:later 1'])
  })

  it('listens again after its connection is lost, calling every handler with nothing at the loss and again once back', async () => {
    const name = new URL(db.url).pathname.slice(1)
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL })
    await admin.connect()
    heard.length = 0
    // Every backend of this database, the LISTEN connection's included: what a server restart does.
    await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [name],
    )
    await admin.end()
    // The loss (a worker looks at once), then the reconnection (whatever was missed while away).
    await waitFor(
      () => ['sq_queued', 'sq_ended', 'sq_cancel'].every((c) => heard.filter((h) => h === `${c}:`).length === 2),
      10_000,
      'the loss and reconnection calls',
    )
    assert.equal(d.hearing(), true)
    const id = randomUUID()
    await waitFor(
      async () => {
        await insert(d, { id, task: 't#x', queue: 'again' })
        return true
      },
      10_000,
      'the pool to reconnect',
    )
    await waitFor(() => heard.includes(`sq_queued:again 1 ${id}`), 10_000, 'a notification on the new connection')
  })
})
