import assert from 'node:assert/strict'
import { sql } from 'kysely'
import type { Backend } from '../../src/storage/backend.js'
import { claimTasks } from '../../src/storage/run-repository.js'
import { describeOn, useTestDatabase } from '../helpers/db.js'
import { insert } from '../helpers/sq.js'

const claimBackendPid = async (d: Backend) =>
  (await d.claim((trx) => trx.query<{ pid: number }>('select pg_backend_pid() as pid', [])))[0]!.pid

const claimOne = (d: Backend) =>
  claimTasks(d, { workerId: 'w1', workerName: 'host:w1', pid: 1, queues: ['default'], limit: 1 })

describeOn('postgres', 'the kept connection, which claims (postgres)', () => {
  const t = useTestDatabase('postgres', { clean: true })
  // A worker listens for as long as it runs: its claims and looks share that connection.
  let unlisten: () => Promise<void>
  before(async () => {
    unlisten = await t.d.listen('sq_queued', () => {})
  })
  after(() => unlisten())

  // pg's pool closes a connection idle for 10 s; an idle worker's next claim would then open one,
  // tens of ms of its pickup.
  it('stays open while the worker idles past the pool idle timeout, and is the one that listens', async function () {
    this.timeout(30_000)
    const before = await claimBackendPid(t.d)
    await new Promise((resolve) => setTimeout(resolve, 11_000))
    assert.equal(await claimBackendPid(t.d), before)
    const listening = await t.d.claim((trx) =>
      trx.query<{ channel: string }>('select pg_listening_channels() as channel', []),
    )
    assert.deepEqual(listening, [{ channel: 'sq_queued' }])
  })

  // Parsing and planning were most of an idle worker's claim, paid again at every pickup.
  it('keeps the claim prepared on its connection', async () => {
    const id = await insert(t.d)
    assert.deepEqual(
      (await claimOne(t.d)).map((task) => task.id),
      [id],
    )
    const prepared = await t.d.claim((trx) =>
      trx.query<{ name: string; statement: string }>('select name, statement from pg_prepared_statements', []),
    )
    assert.ok(
      prepared.some((row) => /^sq_claim_1_started_/.test(row.name) && row.statement.includes('"pick"')),
      `no prepared claim among ${JSON.stringify(prepared)}`,
    )
  })

  // A newer sq may migrate the table while this worker runs: the server refuses a prepared statement
  // whose result the new column changes ("cached plan must not change result type").
  it('claims again after a migration added a column to the tasks', async () => {
    await insert(t.d)
    assert.equal((await claimOne(t.d)).length, 1)
    await sql`alter table sq_tasks add column added_by_a_later_version text`.execute(t.d.db)
    try {
      const id = await insert(t.d)
      assert.deepEqual(
        (await claimOne(t.d)).map((task) => task.id),
        [id],
      )
    } finally {
      await sql`alter table sq_tasks drop column added_by_a_later_version`.execute(t.d.db)
    }
  })
})
