import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import type { Backend } from '../../src/storage/backend.js'
import { openPostgres } from '../../src/storage/backends/pg-connection.js'
import { migrateToLatest } from '../../src/storage/migrate.js'
import { initial } from '../../src/storage/migrations/001-initial.js'
import { notifyTriggers } from '../../src/storage/migrations/002-notify-triggers.js'
import { schedulesAndPauses } from '../../src/storage/migrations/003-schedules-and-pauses.js'
import { notifyPerStatement } from '../../src/storage/migrations/004-notify-per-statement.js'
import { dropModifiedIndex } from '../../src/storage/migrations/005-drop-modified-index.js'
import { idsInByteOrder } from '../../src/storage/migrations/006-ids-in-byte-order.js'
import { cancelTask } from '../../src/storage/control-repository.js'
import { findByIdPrefix } from '../../src/storage/task-repository.js'
import { migrateOnly } from '../helpers/migrations.js'
import { createTestDatabase, describeOn, type TestDatabase } from '../helpers/db.js'
import { insert, readTask } from '../helpers/sq.js'
import { waitFor } from '../helpers/wait.js'

/**
 * Migration 007 retypes a PostgreSQL database that holds tasks (one left at migration 006, as the
 * release before it left it): ids become uuid, status, queue and key byte-ordered. Every task, its
 * live output and its notifications must come through as they were.
 */
describeOn('postgres', 'migration 007 on a PostgreSQL database holding tasks', () => {
  let db: TestDatabase
  let d: Backend
  before(async () => {
    db = await createTestDatabase('postgres')
    d = await openPostgres(db.url).backend()
    const before007 = {
      '001-initial': initial(d),
      '002-notify-triggers': notifyTriggers(d),
      '003-schedules-and-pauses': schedulesAndPauses(d),
      '004-notify-per-statement': notifyPerStatement(d),
      '005-drop-modified-index': dropModifiedIndex,
      '006-ids-in-byte-order': idsInByteOrder(d),
    }
    await migrateOnly(d, before007)
  })
  after(async () => {
    await d?.close()
    await db?.drop()
  })

  it('keeps every task, its id, key and live output, and the trigger still names the task', async () => {
    const running = await insert(d, { task: 't#run', queue: 'Mail-1' })
    const keyed = await insert(d, { task: 't#keyed', key: 'nightly é' })
    // A run in progress as the release before 007 wrote it (attempts was the fencing token then).
    await sql`update sq_tasks set status = 'progress', attempts = 1, worker_id = 'w', worker = 'h:1', started = now()
      where id = ${running}`.execute(d.db)
    await sql`insert into sq_task_chunks (task_id, attempt, stream, data) values (${running}, 1, 'output', 'half
')`.execute(d.db)

    await migrateToLatest(d)
    // As a process of the new release does: its statements are prepared against the new types.
    await d.close()
    d = await openPostgres(db.url).backend()
    const { rows } = await sql<{ column_name: string; data_type: string; collation_name: string | null }>`
      select column_name, data_type, collation_name from information_schema.columns
      where table_name in ('sq_tasks', 'sq_task_chunks') and column_name in ('id', 'task_id', 'status', 'queue', 'key')
      order by column_name`.execute(d.db)
    assert.deepEqual(
      rows.map((r) => `${r.column_name} ${r.data_type} ${r.collation_name ?? ''}`.trim()),
      ['id uuid', 'key text C', 'queue text C', 'status character varying C', 'task_id uuid'],
    )

    const run = await readTask(d, running)
    assert.equal(run.id, running)
    assert.equal(run.status, 'progress')
    assert.equal(run.queue, 'Mail-1')
    assert.equal(run.output, 'half\n') // its chunks are still its own
    assert.equal((await readTask(d, keyed)).key, 'nightly é')
    assert.deepEqual(await findByIdPrefix(d, keyed.slice(0, 8)), [keyed])
    // The active key still holds: a second task of the same key gets the first one's id.
    assert.equal(await insert(d, { task: 't#keyed', key: 'nightly é' }), keyed)

    const heard: string[] = []
    const stop = await d.listen('sq_cancel', (payload) => heard.push(payload))
    try {
      assert.equal((await cancelTask(d, running))?.cancelled, true)
      await waitFor(() => heard.includes(running), 10_000)
    } finally {
      await stop()
    }
    // The timestamps a COPY leaves out come from the database's clock.
    const fresh = randomUUID()
    await sql`insert into sq_tasks (id, task, args, status, queue, priority, max_attempts)
      values (${fresh}, 't#new', '{}', 'queued', 'default', 0, 1)`.execute(d.db)
    const task = await readTask(d, fresh)
    assert.ok(task.created && task.modified === task.created && task.run_at === task.created)
    await d.db.deleteFrom('sq_tasks').execute()
    const chunks = await d.db
      .selectFrom('sq_task_chunks')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow()
    assert.equal(Number(chunks.n), 0) // the foreign key still cascades
  })
})
