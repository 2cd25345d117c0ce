import assert from 'node:assert/strict'
import { resolveSettings } from '../../src/config.js'
import { Queue } from '../../src/queue/queue.js'
import { createTestDatabase, DIALECTS, describeOn, type TestDatabase } from '../helpers/db.js'
import { writeTaskModule } from '../helpers/sq.js'

/** A lazy queue (the one-shot commands') does all a queue does, loading the whole backend when first needed. */
for (const dialect of DIALECTS) {
  describeOn(dialect, `lazy Queue (${dialect})`, () => {
    let db: TestDatabase
    before(async () => {
      db = await createTestDatabase(dialect)
      writeTaskModule(db.dir)
    })
    after(async () => db?.drop())

    it('adds, reads and lists before the backend loads, and cancels, pauses and purges after', async () => {
      const q = await Queue.withSettings(await resolveSettings({ db: db.url, root: db.dir }), { lazy: true })
      try {
        assert.throws(() => q.backend, /lazy queue/)
        const { id } = await q.enqueue({ task: 'tasks#hello', args: { name: 'x' }, key: 'k' })
        assert.deepEqual(await q.enqueue({ task: 'tasks#hello', key: 'k' }), { id, created: false })
        assert.deepEqual((await q.get(id.slice(0, 8))).args, { name: 'x' })
        assert.deepEqual(
          (await q.list({ limit: 10 })).map((t) => t.id),
          [id],
        )
        assert.throws(() => q.backend, /lazy queue/, 'adding, reading and listing loaded no backend')
        assert.deepEqual(await q.cancel([id]), [{ id, cancelled: true, was: 'queued' }])
        assert.equal(q.backend.name, dialect)
        assert.deepEqual(await q.pause('default'), await q.pause('default'))
        assert.equal(await q.purge({ statuses: ['cancelled'], olderThanMs: -60_000, dryRun: false }), 1)
        assert.deepEqual(await q.list({ limit: 10 }), [])
      } finally {
        await q.close()
      }
    })
  })
}
