import assert from 'node:assert/strict'
import { createTestDatabase, DIALECTS, openTestDatabase, type TestDatabase } from '../helpers/db.js'
import { age, allTasks, assertOneLineError, countTasks, insert, setStatus, sq, sqJson, sqOk, writeTaskModule } from '../helpers/sq.js'
import type { Backend } from '../../src/storage/dialect.js'
import type { Status } from '../../src/types.js'

const DAY = 24 * 3600

for (const dialect of DIALECTS) {
  describe(`sq purge (${dialect})`, function () {
    let db: TestDatabase
    let d: Backend
    const ids = {} as Record<'oldCompleted' | 'oldFailed' | 'oldCancelled' | 'newCompleted' | 'oldQueued' | 'oldRunning', string>

    before(async () => {
      db = await createTestDatabase(dialect)
      writeTaskModule(db.dir)
      d = await openTestDatabase(db)
      const made = await Promise.all(Array.from({ length: 6 }, () => insert(d)))
      const plan: Array<[keyof typeof ids, Status, number]> = [
        ['oldCompleted', 'completed', 40 * DAY],
        ['oldFailed', 'failed', 40 * DAY],
        ['oldCancelled', 'cancelled', 40 * DAY],
        ['newCompleted', 'completed', DAY],
        ['oldQueued', 'queued', 400 * DAY],
        ['oldRunning', 'progress', 400 * DAY],
      ]
      for (const [i, [name, status, ago]] of plan.entries()) {
        ids[name] = made[i]!
        await setStatus(d, made[i]!, status)
        await age(d, made[i]!, ago)
      }
    })
    after(async () => {
      await d?.close()
      await db?.drop()
    })

    const remaining = async () => new Set((await allTasks(d)).map((t) => t.id))

    it('--dry-run counts what the defaults (30d, completed and failed) would delete, and deletes nothing', async () => {
      const [text, json] = await Promise.all([sqOk(db, ['purge', '--dry-run']), sqJson(db, ['purge', '--dry-run'])])
      assert.match(text, /^Would delete 2 tasks/)
      assert.deepEqual(json, { deleted: 2, dry_run: true })
      assert.equal(await countTasks(d), 6)
    })

    it('deletes completed and failed tasks older than 30 days by default', async () => {
      assert.match(await sqOk(db, ['purge']), /^Deleted 2 tasks/)
      const left = await remaining()
      assert.ok(!left.has(ids.oldCompleted) && !left.has(ids.oldFailed))
      assert.deepEqual(left, new Set([ids.oldCancelled, ids.newCompleted, ids.oldQueued, ids.oldRunning]))
    })

    it('refuses a number without a unit (once read as milliseconds: every ended task), and takes 1d12h', async () => {
      const all = 'completed,failed,cancelled'
      const [bare, compound, shorter] = await Promise.all([
        sq(db, ['purge', '--older-than', '7', '--status', all]),
        sqJson(db, ['purge', '--older-than', '1d12h', '--status', all, '--dry-run']),
        sqJson(db, ['purge', '--older-than', '12h30m', '--status', all, '--dry-run']),
      ])
      assertOneLineError(bare, 2, /--older-than must be a duration like 90s, 10m, 1h30m, 7d or 2w .*got "7" \(a number needs a unit\)/)
      assert.deepEqual(compound, { deleted: 1, dry_run: true }, 'only the cancelled task of 40 days')
      assert.deepEqual(shorter, { deleted: 2, dry_run: true }, 'the day-old task too')
      assert.ok((await remaining()).has(ids.newCompleted), 'the day-old task is still there')
    })

    it('never deletes queued or running tasks, even with --older-than 0s', async () => {
      const json = await sqJson(db, ['purge', '--older-than', '0s', '--status', 'completed,failed,cancelled'])
      assert.deepEqual(json, { deleted: 2, dry_run: false })
      assert.deepEqual(await remaining(), new Set([ids.oldQueued, ids.oldRunning]))
    })

    it('refuses queued/progress statuses and bad durations with exit 2, deleting nothing', async () => {
      const results = await Promise.all([
        sq(db, ['purge', '--status', 'queued', '--older-than', '0s']),
        sq(db, ['purge', '--status', 'completed,progress']),
        sq(db, ['purge', '--status', 'old']),
        sq(db, ['purge', '--older-than', 'ages']),
        sq(db, ['purge', '--older-than', '-1d']),
      ])
      assertOneLineError(results[0]!, 2, /queued/)
      assertOneLineError(results[1]!, 2, /progress/)
      assertOneLineError(results[2]!, 2, /unknown status "old"/)
      assertOneLineError(results[3]!, 2, /--older-than/)
      assertOneLineError(results[4]!, 2, /--older-than/)
      assert.deepEqual(await remaining(), new Set([ids.oldQueued, ids.oldRunning]))
    })
  })
}
