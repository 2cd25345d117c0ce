import assert from 'node:assert/strict'
import * as runs from '../../src/storage/run-repository.js'
import * as verdicts from '../../src/storage/run-verdict.js'
import * as release from '../../src/storage/run-release.js'
import * as control from '../../src/storage/control-repository.js'
import * as tasks from '../../src/storage/task-repository.js'
import { DIALECTS, describeOn, useTestDatabase } from '../helpers/db.js'
import { insert } from '../helpers/sq.js'

const claimer = (name: string): runs.ClaimOptions => ({
  workerId: name,
  workerName: `host:${name}`,
  pid: 1,
  queues: ['default'],
  limit: 1,
})

/**
 * The claim token and the history of runs (migration 009). A run given back spends no attempt, but the
 * next run must still get a token of its own: the worker that gave it back (or one that woke from a
 * SIGSTOP after its claim was given back) can write nothing more. Every run that ends is in the history,
 * whichever path ended it.
 */
for (const dialect of DIALECTS) {
  describeOn(dialect, `claim token and runs history (${dialect})`, () => {
    const t = useTestDatabase(dialect, { clean: true })

    it('a run given back leaves its attempt unspent, yet its token never writes again', async () => {
      const { d } = t
      const id = await insert(d, { maxAttempts: 1 })
      const [first] = await runs.claimTasks(d, claimer('a'))
      assert.equal(first!.attempts, 1)
      assert.equal(await release.releaseUnstarted(d, 'a', [{ id, claim: first!.claim }]), 1)
      assert.equal((await tasks.getTask(d, id))!.attempts, 0, 'the give-back spends no attempt')

      const [second] = await runs.claimTasks(d, claimer('b'))
      assert.equal(second!.attempts, 1, 'the next run is attempt 1 again')
      assert.notEqual(second!.claim, first!.claim, 'but it holds a token of its own')
      const stale = { id, claim: first!.claim }
      assert.equal(await runs.appendChunks(d, stale, { output: 'from the old run' }), false)
      assert.equal(await verdicts.endRun(d, stale, { status: 'completed', tail: { output: 'old' } }), false)
      assert.deepEqual(await runs.lostRuns(d, [stale]), [stale])

      assert.ok(await runs.appendChunks(d, { id, claim: second!.claim }, { output: 'new;' }))
      assert.ok(
        await verdicts.endRun(d, { id, claim: second!.claim }, { status: 'completed', tail: { output: 'done' } }),
      )
      const done = (await tasks.getTask(d, id))!
      assert.deepEqual([done.status, done.output, done.attempts], ['completed', 'new;done', 1])
    })

    it('records every run that ended: retry, given back, completed — oldest first, with worker, times and error', async () => {
      const { d } = t
      const id = await insert(d, { maxAttempts: 3 })
      const run = async (worker: string) => {
        const [claimed] = await runs.claimTasks(d, claimer(worker))
        assert.equal(claimed?.id, id)
        return { id, claim: claimed!.claim }
      }
      assert.ok(
        await verdicts.endRun(d, await run('a'), { status: 'queued', error: 'Error: boom', retryAfterSeconds: 0 }),
      )
      assert.ok(await verdicts.endRun(d, await run('b'), { status: 'queued', givenBack: 'stop' }))
      const third = await run('c')
      const task = (await tasks.getTask(d, id))!
      const inProgress = await tasks.taskRuns(d, task)
      assert.deepEqual(
        inProgress.map((r) => [r.attempt, r.outcome, r.worker]),
        [
          [1, 'retry', 'host:a'],
          [2, 'given_back', 'host:b'],
          [2, null, 'host:c'],
        ],
      )
      assert.ok(await verdicts.endRun(d, third, { status: 'completed' }))
      const history = await tasks.taskRuns(d, (await tasks.getTask(d, id))!)
      assert.deepEqual(
        history.map((r) => [r.attempt, r.outcome, r.worker, r.error]),
        [
          [1, 'retry', 'host:a', 'Error: boom'],
          [2, 'given_back', 'host:b', null],
          [2, 'completed', 'host:c', null],
        ],
      )
      // A requeue clears the row's results: its run is kept in the history all the same.
      await control.requeueTasks(d, [id])
      const fourth = await run('d')
      assert.ok(await verdicts.endRun(d, fourth, { status: 'failed', error: 'Error: again' }))
      const requeued = await tasks.taskRuns(d, (await tasks.getTask(d, id))!)
      assert.deepEqual(
        requeued.map((r) => [r.attempt, r.outcome, r.worker]),
        [
          [1, 'retry', 'host:a'],
          [2, 'given_back', 'host:b'],
          [2, 'completed', 'host:c'],
          [3, 'failed', 'host:d'],
        ],
      )
      for (const r of history) {
        assert.match(r.started!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
        assert.ok(r.finished! >= r.started!, `${r.finished} is before ${r.started}`)
      }
    })

    it("records a cancelled run and a dead worker's run as lost; a run that never began is none", async () => {
      const { d } = t
      const cancelled = await insert(d)
      await runs.claimTasks(d, claimer('a'))
      assert.equal((await control.cancelTask(d, cancelled))?.cancelled, true)
      const [c] = await tasks.taskRuns(d, (await tasks.getTask(d, cancelled))!)
      assert.equal(c?.outcome, 'cancelled')

      const lost = await insert(d)
      const [claimed] = await runs.claimTasks(d, claimer('dead'))
      const error = 'Worker host:dead stopped heartbeating (none for over 30s); task marked failed by worker host:b'
      assert.ok(await verdicts.endRun(d, { id: lost, claim: claimed!.claim }, { status: 'failed', error }))
      assert.deepEqual(
        (await tasks.taskRuns(d, (await tasks.getTask(d, lost))!)).map((r) => r.outcome),
        ['lost'],
      )

      const unstarted = await insert(d)
      const [waiting] = await runs.claimTasks(d, { ...claimer('a'), startNow: false })
      assert.ok(await release.requeueUnstarted(d, { id: unstarted, claim: waiting!.claim }))
      const back = (await tasks.getTask(d, unstarted))!
      assert.deepEqual([back.status, back.attempts], ['queued', 0])
      assert.deepEqual(await tasks.taskRuns(d, back), [])
    })
  })
}
