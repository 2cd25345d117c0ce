import assert from 'node:assert/strict'
import { claimTasks, lostRuns, nextDue } from '../../src/storage/run-repository.js'
import { endRun, endRuns } from '../../src/storage/run-verdict.js'
import { orphanedRuns } from '../../src/storage/worker-repository.js'
import { DIALECTS, describeOn, useTestDatabase } from '../helpers/db.js'
import { insert } from '../helpers/sq.js'
import { assertIndexed, explainingDialect } from '../helpers/explain.js'

/**
 * The worker's hot path must cost the same with a large backlog as with a small one: each query finds
 * its rows through an index, and the claim's UPDATE by primary key (a status filter there once made
 * SQLite walk every queued row on each claim).
 */
for (const dialect of DIALECTS) {
  describeOn(dialect, `worker hot-path query plans (${dialect})`, () => {
    const t = useTestDatabase(dialect)
    before(async () => {
      for (let i = 0; i < 50; i++) {
        await insert(t.d, { task: 't#x', priority: i % 3 })
      }
    })

    it('claims through the claim index and updates by primary key; the rest is indexed too', async () => {
      const { logged, plans, close } = await explainingDialect(t.db, t.d)
      try {
        assert.ok((await nextDue(logged, ['default']))! <= 0)
        const [task] = await claimTasks(logged, {
          workerId: 'w',
          workerName: 'h:1',
          pid: 1,
          queues: ['default'],
          limit: 1,
        })
        await lostRuns(logged, [{ id: task!.id, claim: 1 }])
        await orphanedRuns(logged, 30)
        await endRun(logged, { id: task!.id, claim: 1 }, { status: 'completed', chunksWritten: false })
        await endRun(logged, { id: task!.id, claim: 1 }, { status: 'completed' })
        const running = await claimTasks(logged, {
          workerId: 'w',
          workerName: 'h:1',
          pid: 1,
          queues: ['default'],
          limit: 10,
        })
        await endRuns(
          logged,
          running
            .slice(0, 2)
            .map((r) => ({ run: { id: r.id, claim: 1 }, outcome: { status: 'completed', chunksWritten: false } })),
        )
        const all = await plans()
        // The batched verdict finds each row by its id; walking the running tasks by status instead, SQLite
        // read the whole batch again for each of them.
        const verdicts = all.find((p) => /^\s*with v\(/i.test(p.query))!
        assert.ok(verdicts, 'the batched verdict was seen')
        assert.ok(
          verdicts.plan.some((l) => /sq_tasks_pkey|sqlite_autoindex_sq_tasks_1 \(id=\?\)/.test(l)),
          `batched verdict not by primary key:\n${verdicts.plan.join('\n')}`,
        )
        const claim = all.find((p) => /^\s*with/i.test(p.query))!
        assert.ok(claim, 'the claim was seen')
        assert.ok(
          claim.plan.some((l) => /sq_tasks_claim/.test(l)),
          `claim pick without sq_tasks_claim:\n${claim.plan.join('\n')}`,
        )
        if (dialect === 'sqlite') {
          assert.ok(
            !claim.plan.some((l) => /sq_tasks_status_modified/.test(l)),
            `claim update walks the queued rows:\n${claim.plan.join('\n')}`,
          )
        }
        assertIndexed(dialect, all, ['t', 'w'])
      } finally {
        await close()
      }
    })
  })
}
