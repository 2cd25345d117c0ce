import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { DIALECTS, describeOn, useTestDatabase } from '../helpers/db.js'
import {
  age,
  allTasks,
  assertOneLineError,
  countTasks,
  insert,
  setStatus,
  sq,
  sqJson,
  sqOk,
  writeTaskModule,
} from '../helpers/sq.js'
import type { Status } from '../../src/types.js'

const DAY = 24 * 3600

for (const dialect of DIALECTS) {
  describeOn(dialect, `sq purge (${dialect})`, () => {
    // Each test starts from the same six tasks, whatever the others deleted.
    const t = useTestDatabase(dialect, { clean: true, setup: writeTaskModule })
    const ids = {} as Record<
      'oldCompleted' | 'oldFailed' | 'oldCancelled' | 'newCompleted' | 'oldQueued' | 'oldRunning',
      string
    >
    const plan: Array<[keyof typeof ids, Status, number]> = [
      ['oldCompleted', 'completed', 40 * DAY],
      ['oldFailed', 'failed', 40 * DAY],
      ['oldCancelled', 'cancelled', 40 * DAY],
      ['newCompleted', 'completed', DAY],
      ['oldQueued', 'queued', 400 * DAY],
      ['oldRunning', 'progress', 400 * DAY],
    ]

    beforeEach(async () => {
      for (const [name, status, ago] of plan) {
        ids[name] = await insert(t.d)
        await setStatus(t.d, ids[name], status)
        await age(t.d, ids[name], ago)
      }
    })

    const remaining = async () => new Set((await allTasks(t.d)).map((t) => t.id))

    it('--dry-run counts what the defaults (30d, completed and failed) would delete, and deletes nothing', async () => {
      const [text, json] = await Promise.all([sqOk(t.db, ['purge', '--dry-run']), sqJson(t.db, ['purge', '--dry-run'])])
      assert.match(text, /^Would delete 2 tasks/)
      assert.deepEqual(json, { deleted: 2, dry_run: true })
      assert.equal(await countTasks(t.d), 6)
    })

    it('deletes completed and failed tasks older than 30 days by default', async () => {
      assert.match(await sqOk(t.db, ['purge']), /^Deleted 2 tasks/)
      const left = await remaining()
      assert.ok(!left.has(ids.oldCompleted) && !left.has(ids.oldFailed))
      assert.deepEqual(left, new Set([ids.oldCancelled, ids.newCompleted, ids.oldQueued, ids.oldRunning]))
    })

    it('refuses a number without a unit (once read as milliseconds: every ended task), and takes 1d12h', async () => {
      const all = 'completed,failed,cancelled'
      const [bare, compound, shorter] = await Promise.all([
        sq(t.db, ['purge', '--older-than', '7', '--status', all]),
        sqJson(t.db, ['purge', '--older-than', '1d12h', '--status', all, '--dry-run']),
        sqJson(t.db, ['purge', '--older-than', '12h30m', '--status', all, '--dry-run']),
      ])
      assertOneLineError(
        bare,
        2,
        /--older-than must be a duration like 90s, 10m, 1h30m, 7d or 2w .*got "7" \(a number needs a unit\)/,
      )
      assert.deepEqual(compound, { deleted: 3, dry_run: true }, 'the three ended tasks of 40 days')
      assert.deepEqual(shorter, { deleted: 4, dry_run: true }, 'the day-old task too')
      assert.ok((await remaining()).has(ids.newCompleted), 'the day-old task is still there')
    })

    it('never deletes queued or running tasks, even with --older-than 0s', async () => {
      const json = await sqJson(t.db, ['purge', '--older-than', '0s', '--status', 'completed,failed,cancelled'])
      assert.deepEqual(json, { deleted: 4, dry_run: false })
      assert.deepEqual(await remaining(), new Set([ids.oldQueued, ids.oldRunning]))
    })

    it('deletes a purge of thousands in batches: every old task goes, and its runs with it', async () => {
      const lines = Array.from({ length: 1201 }, (_, i) => JSON.stringify({ name: `n${i}` })).join('\n')
      fs.writeFileSync(path.join(t.db.dir, 'many.jsonl'), `${lines}\n`)
      await sqOk(t.db, ['enqueue', 'tasks#hello', '--jsonl', 'many.jsonl', '--queue', 'many'])
      const when = new Date(Date.now() - 40 * DAY * 1000).toISOString()
      await t.d.db
        .updateTable('sq_tasks')
        .set({ status: 'completed', modified: when })
        .where('queue', '=', 'many')
        .execute()
      const many = (await t.d.db.selectFrom('sq_tasks').select('id').where('queue', '=', 'many').execute()).map(
        (r) => r.id,
      )
      const runs = [...many, ids.newCompleted].map((id) => ({
        task_id: id,
        claim: 1,
        attempt: 1,
        worker: 'w:1',
        finished: when,
        outcome: 'retry' as const,
      }))
      for (let i = 0; i < runs.length; i += 500)
        await t.d.db
          .insertInto('sq_task_runs')
          .values(runs.slice(i, i + 500))
          .execute()

      assert.deepEqual(await sqJson(t.db, ['purge']), { deleted: 1203, dry_run: false })
      assert.deepEqual(await remaining(), new Set([ids.oldCancelled, ids.newCompleted, ids.oldQueued, ids.oldRunning]))
      const runsLeft = await t.d.db.selectFrom('sq_task_runs').select('task_id').execute()
      assert.deepEqual(
        runsLeft.map((r) => r.task_id),
        [ids.newCompleted],
        "only the kept task's run is left",
      )
    })

    it('refuses queued/progress statuses and bad durations with exit 2, deleting nothing', async () => {
      const results = await Promise.all([
        sq(t.db, ['purge', '--status', 'queued', '--older-than', '0s']),
        sq(t.db, ['purge', '--status', 'completed,progress']),
        sq(t.db, ['purge', '--status', 'old']),
        sq(t.db, ['purge', '--older-than', 'ages']),
        sq(t.db, ['purge', '--older-than', '-1d']),
      ])
      assertOneLineError(results[0]!, 2, /queued/)
      assertOneLineError(results[1]!, 2, /progress/)
      assertOneLineError(results[2]!, 2, /unknown status "old"/)
      assertOneLineError(results[3]!, 2, /--older-than/)
      assertOneLineError(results[4]!, 2, /--older-than/)
      assert.equal(await countTasks(t.d), 6)
    })
  })
}
