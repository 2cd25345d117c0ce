import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { runSq } from '../helpers/cli.js'
import { createTestDatabase, DIALECTS, describeOn, type TestDatabase } from '../helpers/db.js'

for (const dialect of DIALECTS) {
  describeOn(dialect, `sq stats (${dialect})`, () => {
    let db: TestDatabase
    const sq = (...args: string[]) => runSq([...args, '--db', db.url], { cwd: db.dir })

    before(async () => {
      db = await createTestDatabase(dialect)
      fs.writeFileSync(
        path.join(db.dir, 'tasks.mjs'),
        'export function ok() { return "fine" }\nexport function bad() { throw new Error("nope") }\n',
      )
    })
    after(() => db.drop())

    it('counts per status and per task, recent ends, the oldest queued task and live workers', async () => {
      for (const task of ['tasks#ok', 'tasks#ok', 'tasks#bad']) assert.equal((await sq('enqueue', task)).code, 0)
      const worker = await sq('worker', '--burst')
      assert.equal(worker.code, 1, `the burst ran a task that failed: ${worker.stderr}`)
      assert.equal((await sq('enqueue', 'tasks#ok', '--delay', '1h')).code, 0)
      assert.equal((await sq('enqueue', 'tasks#ok')).code, 0)

      const result = await sq('stats', '--json')
      assert.equal(result.code, 0, result.stderr)
      const stats = JSON.parse(result.stdout)
      assert.deepEqual(stats.counts, { queued: 2, progress: 0, completed: 2, failed: 1, cancelled: 0 })
      assert.deepEqual(
        stats.tasks.map((t: { task: string; completed: number; failed: number; queued: number }) => [
          t.task,
          t.completed,
          t.failed,
          t.queued,
        ]),
        [
          ['tasks#bad', 0, 1, 0],
          ['tasks#ok', 2, 0, 2],
        ],
      )
      assert.deepEqual(stats.recent['1m'], { completed: 2, failed: 1 })
      assert.deepEqual(stats.recent['15m'], { completed: 2, failed: 1 })
      // The delayed task is not runnable yet, so only the other one counts as waiting.
      assert.ok(
        stats.oldest_queued_age_seconds >= 0 && stats.oldest_queued_age_seconds < 60,
        String(stats.oldest_queued_age_seconds),
      )
      assert.deepEqual(stats.workers, [])

      const human = await sq('stats')
      assert.match(human.stdout, /Queued: 2 {3}In progress: 0 {3}Completed: 2 {3}Failed: 1/)
      assert.match(human.stdout, /tasks#bad/)
    })
  })
}
