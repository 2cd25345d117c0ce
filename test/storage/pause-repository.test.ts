import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect, type CompiledQuery } from 'kysely'
import pg from 'pg'
import type { Backend } from '../../src/storage/backend.js'
import type { Database } from '../../src/storage/schema.js'
import { pausedQueues, pauseQueue, resumeQueue } from '../../src/storage/pause-repository.js'
import { claimTasks, nextDue } from '../../src/storage/run-repository.js'
import { insertTask } from '../../src/storage/task-repository.js'
import { DIALECTS, describeOn, useTestDatabase } from '../helpers/db.js'
import { sessionOver } from '../helpers/explain.js'
import { sleep, waitFor } from '../helpers/wait.js'

for (const dialect of DIALECTS) {
  describeOn(dialect, `paused queues (${dialect})`, () => {
    const t = useTestDatabase(dialect, { clean: true })
    const add = (queue: string) =>
      insertTask(t.d, {
        id: randomUUID(),
        task: 't#x',
        argsJson: '{}',
        queue,
        priority: 0,
        maxAttempts: 1,
        key: null,
        runAt: { afterSeconds: 0 },
      })
    const claim = (queues: string[]) => claimTasks(t.d, { workerId: 'w', workerName: 'h:1', pid: 1, queues, limit: 10 })

    it('the claim and the runnable check skip a paused queue and only it; pause and resume are idempotent', async () => {
      await add('mail')
      await add('mail')
      await add('sms')
      const first = await pauseQueue(t.d, 'mail')
      await sleep(5)
      assert.deepEqual(await pauseQueue(t.d, 'mail'), first)
      assert.deepEqual(await pausedQueues(t.d), [first])
      assert.equal(await nextDue(t.d, ['mail']), null)
      assert.deepEqual(
        (await claim(['mail', 'sms'])).map((task) => task.queue),
        ['sms'],
      )
      assert.deepEqual(await claim(['mail']), [])
      assert.equal(await resumeQueue(t.d, 'mail'), true)
      assert.equal(await resumeQueue(t.d, 'mail'), false)
      assert.ok((await nextDue(t.d, ['mail']))! <= 0)
      assert.deepEqual(
        (await claim(['mail', 'sms'])).map((task) => task.queue),
        ['mail', 'mail'],
      )
      assert.deepEqual(await pausedQueues(t.d), [])
    })

    it('a paused backlog is never walked: the claim does not name a paused queue, or gates its walk before the scan', async () => {
      // A NOT EXISTS per candidate row would be correct too, but would walk every task of a paused
      // queue through the index at each claim and each idle poll.
      for (let i = 0; i < 20; i++) await add('mail')
      await add('sms')
      await pauseQueue(t.d, 'mail')
      const seen: CompiledQuery[] = []
      const log = (e: { level: string; query: CompiledQuery }) => {
        if (e.level === 'query') seen.push(e.query)
      }
      const kysely = new Kysely<Database>({
        dialect:
          dialect === 'sqlite'
            ? new SqliteDialect({ database: new BetterSqlite3(t.db.url) })
            : new PostgresDialect({ pool: new pg.Pool({ connectionString: t.db.url, max: 1 }) }),
        log,
      })
      const claims = () => seen.filter((q) => /^\s*with/i.test(q.sql))
      try {
        const logged: Backend = { ...t.d, ...sessionOver(t.d, kysely), claim: (fn) => fn(sessionOver(t.d, kysely)) }
        const claimed = await claimTasks(logged, {
          workerId: 'w',
          workerName: 'h:1',
          pid: 1,
          queues: ['mail', 'sms'],
          limit: 10,
        })
        assert.deepEqual(
          claimed.map((task) => task.queue),
          ['sms'],
        )
        const [claim] = claims()
        assert.ok(claim, 'the claim was seen')
        const planOf = async (query: CompiledQuery) => {
          const { rows } = await kysely.executeQuery<{ 'QUERY PLAN': string }>({
            ...query,
            sql: `explain ${query.sql}`,
          } as CompiledQuery<{ 'QUERY PLAN': string }>)
          return rows.map((r) => r['QUERY PLAN']).join('\n')
        }
        if (t.d.gatesBeforeScan) {
          // PostgreSQL: a walk per queue, each behind its queue's gate, tested before its index is read.
          const plan = await planOf(claim)
          assert.equal(plan.match(/One-Time Filter: \(NOT \$\d+\)/g)?.length, 2, plan)
        } else
          assert.ok(
            claim.parameters.includes('sms') && !claim.parameters.includes('mail'),
            JSON.stringify(claim.parameters),
          )

        seen.length = 0
        assert.equal(await nextDue(logged, ['mail']), null)
        assert.deepEqual(
          await claimTasks(logged, { workerId: 'w', workerName: 'h:1', pid: 1, queues: ['mail'], limit: 10 }),
          [],
        )
        if (t.d.gatesBeforeScan) {
          // One queue: one statement, whose gate PostgreSQL tests before it reads the index.
          const [single] = claims()
          const plan = await planOf(single!)
          assert.match(plan, /One-Time Filter: \(NOT \$\d+\)/, plan)
        } else {
          assert.deepEqual(
            seen.filter((q) => /sq_tasks/.test(q.sql)).map((q) => q.sql),
            [],
            'no query on sq_tasks when every queue is paused',
          )
        }
      } finally {
        await kysely.destroy()
        await resumeQueue(t.d, 'mail')
      }
    })

    if (dialect === 'postgres') {
      it('resuming notifies sq_queued with the queue, so idle workers claim at once', async () => {
        const heard: string[] = []
        const stop = await t.d.listen('sq_queued', (payload) => heard.push(payload))
        try {
          await pauseQueue(t.d, 'reports')
          await resumeQueue(t.d, 'reports')
          await waitFor(() => heard.includes('reports'), 10_000, 'the notification')
          // Resuming a queue that was not paused deletes nothing, and wakes no one.
          heard.length = 0
          await resumeQueue(t.d, 'reports')
          await sleep(300)
          assert.deepEqual(heard, [])
        } finally {
          await stop()
        }
      })
    }
  })
}
