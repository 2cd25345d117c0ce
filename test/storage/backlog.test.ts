import assert from 'node:assert/strict'
import type { queueStats } from '../../src/queue/stats.js'
import { oldestQueuedByQueue } from '../../src/storage/dashboard-repository.js'
import { EXACT_COUNT_LIMIT } from '../../src/storage/monitor-repository.js'
import { claimTasks } from '../../src/storage/run-repository.js'
import { endRun } from '../../src/storage/run-verdict.js'
import { STATUSES, zeroCounts } from '../../src/task.js'
import { DIALECTS, describeOn, useTestDatabase } from '../helpers/db.js'
import { assertIndexed, explainingDialect } from '../helpers/explain.js'
import { insert, setStatus, sqJson, sqOk, writeTaskModule } from '../helpers/sq.js'

const worker = { workerId: 'w', workerName: 'h:1', pid: 1 }

/** The table's own counts per status, each row counted. */
async function exactCounts(d: Parameters<typeof queueStats>[0]) {
  const rows = await d.query<{ status: string; n: number | string }>(
    `select "status", count(*) as "n" from "sq_tasks" group by "status"`,
    [],
  )
  const counts = zeroCounts()
  for (const r of rows) counts[r.status as keyof typeof counts] = Number(r.n)
  return counts
}

/** Inserts n tasks of a status in one statement, modified `secondsAgo` ago. */
async function bulkInsert(d: Parameters<typeof queueStats>[0], n: number, status: string, secondsAgo = 0) {
  const id =
    d.name === 'postgres'
      ? 'gen_random_uuid()'
      : `lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(6)))`
  const at = d.spelling.nowPlusSeconds(String(-secondsAgo))
  await d.query(
    `insert into "sq_tasks" ("id", "task", "args", "status", "queue", "created", "modified", "run_at")
    with recursive "s"("i") as (select 1 union all select "i" + 1 from "s" where "i" < ${n})
    select ${id}, 'tasks#hello', '{}', '${status}', 'default', ${at}, ${at}, ${at} from "s"`,
    [],
  )
}

const count = async (d: Parameters<typeof queueStats>[0], sql: string) =>
  Number((await d.query<{ n: number | string }>(sql, []))[0]!.n)

/**
 * A big backlog costs each read the same as a small one: claims over several queues walk each queue's index,
 * counts beyond EXACT_COUNT_LIMIT are estimated (and said to be), the oldest queued task is found by seeks.
 */
for (const dialect of DIALECTS) {
  describeOn(dialect, `backlog reads (${dialect})`, () => {
    const t = useTestDatabase(dialect, { clean: true, setup: writeTaskModule })

    it('claims over two queues in claim order, each queue through sq_tasks_claim, without sorting the backlog', async () => {
      // Each a second apart: tasks of two queues created in the same millisecond tie, in either order.
      for (let i = 0; i < 30; i++) {
        const at = new Date(Date.now() - (100 - i) * 1000).toISOString()
        await insert(t.d, { queue: i % 2 ? 'a' : 'b', priority: 0, runAt: { at } })
      }
      await insert(t.d, { queue: 'a', priority: 1 })
      const top = await insert(t.d, { queue: 'b', priority: 2 })
      await insert(t.d, { queue: 'c', priority: 9 })
      const { logged, plans, close } = await explainingDialect(t.db, t.d)
      try {
        const claimed = await claimTasks(logged, { ...worker, queues: ['a', 'b'], limit: 3 })
        assert.deepEqual(
          claimed.map((c) => [c.queue, c.priority]),
          [
            ['b', 2],
            ['a', 1],
            ['b', 0],
          ],
        )
        assert.equal(claimed[0]!.id, top)
        const claim = (await plans()).find((p) => /^\s*with/i.test(p.query))!
        const text = claim.plan.join('\n')
        assert.equal(text.match(/sq_tasks_claim/g)?.length, 2, `one walk of sq_tasks_claim per queue:\n${text}`)
        assert.ok(!/sq_tasks_status_modified|Bitmap/.test(text), `the claim reads the queued rows:\n${text}`)
        if (dialect === 'postgres') {
          // The one sort is the merge of the walks' few rows: above the walks, never between a walk and its index.
          assert.equal(text.match(/Sort Key/g)?.length, 1, `a walk sorts what it reads:\n${text}`)
          assert.match(text, /Sort Key[^\n]*\n\s*->\s+Append/, `the sort is not the merge's:\n${text}`)
        }
      } finally {
        await close()
      }
    })

    it('finds the oldest runnable task of each queue, lower priorities included, by index seeks only', async () => {
      const ago = (s: number) => ({ at: new Date(Date.now() - s * 1000).toISOString() })
      await insert(t.d, { queue: 'a', priority: 5, runAt: ago(10) })
      await insert(t.d, { queue: 'a', priority: 0, runAt: ago(100) })
      await insert(t.d, { queue: 'a', priority: -3, runAt: { afterSeconds: 3600 } })
      await insert(t.d, { queue: 'b', priority: 1, runAt: ago(50) })
      await insert(t.d, { queue: 'c', runAt: { afterSeconds: 3600 } })
      const { logged, plans, close } = await explainingDialect(t.db, t.d)
      try {
        const oldest = await oldestQueuedByQueue(logged)
        assert.deepEqual(
          oldest.map((o) => o.queue),
          ['a', 'b'],
        )
        assert.ok(Math.abs(oldest[0]!.seconds - 100) < 5, `queue a waited ${oldest[0]!.seconds} s`)
        assert.ok(Math.abs(oldest[1]!.seconds - 50) < 5, `queue b waited ${oldest[1]!.seconds} s`)
        const all = await plans()
        assertIndexed(dialect, all)
        // Through the claim index only: the status index walks every queued task (SQLite, without statistics).
        const walks = all.flatMap((p) => p.plan).filter((l) => /sq_tasks_status_modified|Bitmap/.test(l))
        assert.deepEqual(walks, [])
      } finally {
        await close()
      }
    })

    it('sq stats counts exactly after enqueues, claims, ends, cancels, requeues and purges', async () => {
      const ids = []
      for (let i = 0; i < 12; i++) ids.push(await insert(t.d, { queue: i % 3 ? 'a' : 'b' }))
      const claimed = await claimTasks(t.d, { ...worker, queues: ['a', 'b'], limit: 6 })
      for (const c of claimed.slice(0, 4)) {
        const failed = c.id === claimed[0]!.id
        await endRun(
          t.d,
          { id: c.id, claim: c.claim },
          failed ? { status: 'failed', error: 'boom' } : { status: 'completed' },
        )
      }
      await sqJson(t.db, ['cancel', ids[11]!])
      await sqJson(t.db, ['requeue', claimed[1]!.id])
      await sqJson(t.db, ['purge', '--older-than', '0s', '--status', 'failed'])
      const stats = await sqJson<{ counts: Record<string, number>; estimated: string[] }>(t.db, ['stats'])
      const exact = await exactCounts(t.d)
      assert.deepEqual(stats.counts, exact)
      assert.deepEqual(stats.estimated, [])
      assert.deepEqual(
        STATUSES.map((s) => exact[s] > 0),
        [true, true, true, false, true],
        'each status but the purged one is present',
      )
    })

    it(`estimates a status of more than ${EXACT_COUNT_LIMIT} tasks and says so; the others stay exact`, async function () {
      this.timeout(60_000)
      const n = EXACT_COUNT_LIMIT + 2000
      await bulkInsert(t.d, n, 'completed')
      if (dialect === 'postgres') await t.d.query('analyze "sq_tasks"', [])
      for (let i = 0; i < 3; i++) await setStatus(t.d, await insert(t.d), 'failed')
      await insert(t.d)
      const stats = await sqJson<{ counts: Record<string, number>; estimated: string[] }>(t.db, ['stats'])
      assert.deepEqual(stats.estimated, ['completed'])
      assert.ok(Math.abs(stats.counts.completed! - n) / n < 0.15, `estimated ${stats.counts.completed} of ${n}`)
      assert.deepEqual({ ...stats.counts, completed: 0 }, { ...(await exactCounts(t.d)), completed: 0 })
      const text = await sqOk(t.db, ['stats'])
      assert.match(text, /completed: ~\d+/i, 'the estimate is labelled')
      assert.match(text, /failed: 3\b/i, 'an exact count is not')
    })

    it('purges every task of a run of equal timestamps that a batch boundary cuts', async function () {
      this.timeout(120_000)
      // Whole ms, so that no precision below the bound a batch resumes from tells the ties apart.
      const at = (secondsAgo: number) => new Date(Math.floor(Date.now() / 1000 - secondsAgo) * 1000).toISOString()
      const p = t.d.spelling.param
      // 700 at one instant, 700 at the next: the batches of 500 end inside each run.
      await bulkInsert(t.d, 700, 'completed')
      await t.d.query(`update "sq_tasks" set "modified" = ${p(1)}`, [at(7200)])
      await bulkInsert(t.d, 700, 'completed')
      await t.d.query(`update "sq_tasks" set "modified" = ${p(1)} where "modified" <> ${p(2)}`, [at(7199), at(7200)])
      await bulkInsert(t.d, 5, 'completed')
      const purged = await sqJson(t.db, ['purge', '--older-than', '1h', '--json'])
      assert.deepEqual(purged, { deleted: 1400, dry_run: false })
      assert.equal(await count(t.d, `select count(*) as "n" from "sq_tasks"`), 5, 'the recent ones are kept')
    })

    it('purges in batches every old ended task with its runs and chunks, and nothing else', async function () {
      this.timeout(120_000)
      await bulkInsert(t.d, 1100, 'completed', 7200)
      await bulkInsert(t.d, 150, 'failed', 7200)
      // Every task so far has a run kept and output chunks (as a retried, streamed task would).
      const now = t.d.spelling.now
      await t.d.query(
        `insert into "sq_task_runs" ("task_id", "claim", "attempt", "worker", "started", "finished", "outcome")
        select "id", 1, 1, 'w', ${now}, ${now}, 'retry' from "sq_tasks"`,
        [],
      )
      await t.d.query(
        `insert into "sq_task_chunks" ("task_id", "claim", "stream", "data") select "id", 2, 'output', 'x' from "sq_tasks"`,
        [],
      )
      const kept = [await insert(t.d), await insert(t.d), await insert(t.d)]
      await setStatus(t.d, kept[1]!, 'progress')
      await setStatus(t.d, kept[2]!, 'completed')
      for (const id of kept) {
        await t.d.query(
          `insert into "sq_task_runs" ("task_id", "claim", "attempt", "worker", "started", "finished", "outcome")
          values (${t.d.spelling.param(1)}, 1, 1, 'w', ${now}, ${now}, 'retry')`,
          [id],
        )
        await t.d.query(
          `insert into "sq_task_chunks" ("task_id", "claim", "stream", "data") values (${t.d.spelling.param(1)}, 1, 'output', 'x')`,
          [id],
        )
      }
      const purged = await sqJson(t.db, ['purge', '--older-than', '1h', '--json'])
      assert.deepEqual(purged, { deleted: 1250, dry_run: false })
      const left = (await t.d.query<{ id: string }>(`select "id" from "sq_tasks"`, [])).map((r) => r.id).sort()
      assert.deepEqual(left, [...kept].sort())
      assert.equal(await count(t.d, `select count(*) as "n" from "sq_task_runs"`), 3)
      assert.equal(await count(t.d, `select count(*) as "n" from "sq_task_chunks"`), 3)
      assert.equal(
        await count(
          t.d,
          `select count(*) as "n" from "sq_task_runs" where "task_id" not in (select "id" from "sq_tasks")`,
        ),
        0,
      )
    })
  })
}
