import assert from 'node:assert/strict'
import pg from 'pg'
import { DIALECTS, describeOn, PG_ADMIN_URL, useTestDatabase } from '../helpers/db.js'
import { newTask } from '../helpers/sq.js'
import { waitFor } from '../helpers/wait.js'
import { getTask, insertTask } from '../../src/storage/task-repository.js'

/**
 * createTask's INSERT runs as a prepared statement (task-repository.ts). PostgreSQL: a named one,
 * prepared once per connection; each connection of the pool prepares it on its first use, and one that
 * replaces a lost connection prepares it again. SQLite: run on the connection directly, outside Kysely,
 * unless a transaction is open on it.
 */
for (const dialect of DIALECTS) {
  describeOn(dialect, `createTask's prepared INSERT (${dialect})`, () => {
    const t = useTestDatabase(dialect, { clean: true })

    it('inserts on every connection of the pool, both shapes, and a held key still gives its holder', async () => {
      // Concurrent calls: the pool opens several connections, each preparing on its first call.
      const tasks = Array.from({ length: 24 }, (_, i) =>
        newTask({ runAt: i % 2 ? { afterSeconds: i } : { at: '2031-01-01T00:00:00.000Z' }, argsJson: `{"i":${i}}` }),
      )
      const results = await Promise.all(tasks.map((task) => insertTask(t.d, task)))
      assert.deepEqual(
        results,
        tasks.map((task) => ({ id: task.id, created: true })),
      )
      for (const task of tasks) assert.deepEqual((await getTask(t.d, task.id))!.args, JSON.parse(task.argsJson))
      const holder = newTask({ key: 'k' })
      await insertTask(t.d, holder)
      assert.deepEqual(await insertTask(t.d, newTask({ key: 'k' })), { id: holder.id, created: false })
    })

    it('an insert while a write transaction of the same handle is open is not part of it', async () => {
      // SQLite: one connection per file and process, and the statement runs on it directly only when no
      // transaction is open; otherwise it waits for that transaction, and its rollback leaves it be.
      const task = newTask()
      let began!: () => void
      const begun = new Promise<void>((resolve) => (began = resolve))
      let finish!: () => void
      const finished = new Promise<void>((resolve) => (finish = resolve))
      const rolledBack = t.d
        .writeTransaction(async (trx) => {
          await trx.db.updateTable('sq_tasks').set({ priority: 9 }).execute()
          began()
          await finished
          throw new Error('rolled back')
        })
        .catch((error: Error) => error.message)
      await begun
      const inserted = insertTask(t.d, task)
      finish()
      assert.equal(await rolledBack, 'rolled back')
      assert.deepEqual(await inserted, { id: task.id, created: true })
      assert.equal((await getTask(t.d, task.id))!.status, 'queued')
    })

    if (dialect === 'postgres') {
      it('keeps the INSERT prepared on its connection', async () => {
        await insertTask(t.d, newTask())
        // The pool hands out the connection it was given back last: the one that inserted.
        const prepared = await t.d.query<{ name: string; statement: string }>(
          'select name, statement from pg_prepared_statements',
          [],
        )
        assert.ok(
          prepared.some(
            (row) =>
              /^sq_insert_task_after_\d+$/.test(row.name) &&
              /^with "new" as \(insert into "sq_tasks"/.test(row.statement),
          ),
          `no prepared INSERT among ${JSON.stringify(prepared)}`,
        )
      })

      it('prepares a named statement on the connection of the transaction it runs in', async () => {
        const names = await t.d.writeTransaction(async (trx) => {
          await trx.query('select count(*) from sq_tasks', [], 'probe_count')
          return trx.query<{ name: string }>('select name from pg_prepared_statements', [])
        })
        assert.ok(
          names.some((row) => /^sq_probe_count_\d+$/.test(row.name)),
          JSON.stringify(names),
        )
      })

      it('refuses a second text under a name already prepared', async () => {
        await t.d.query('select 1 as one', [], 'probe_one')
        await assert.rejects(t.d.query('select 2 as two', [], 'probe_one'), /probe_one was given a second text/)
      })

      it('inserts again once every connection was lost (what a server restart does)', async () => {
        await insertTask(t.d, newTask())
        const admin = new pg.Client({ connectionString: PG_ADMIN_URL })
        await admin.connect()
        try {
          await admin.query(
            'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
            [new URL(t.db.url).pathname.slice(1)],
          )
        } finally {
          await admin.end()
        }
        const task = newTask({ key: 'after' })
        // The first call may still meet a connection whose loss the pool has not seen yet.
        await waitFor(() => insertTask(t.d, task), 10_000, 'an insert on a new connection')
        assert.equal((await getTask(t.d, task.id))!.status, 'queued')
        assert.deepEqual(await insertTask(t.d, newTask({ key: 'after' })), { id: task.id, created: false })
      })
    }
  })
}
