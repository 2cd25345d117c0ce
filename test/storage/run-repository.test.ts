import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { DIALECTS, describeOn, useTestDatabase, type TestDatabase } from '../helpers/db.js'
import type { Backend } from '../../src/storage/backend.js'
import * as runs from '../../src/storage/run-repository.js'
import * as verdicts from '../../src/storage/run-verdict.js'
import * as control from '../../src/storage/control-repository.js'
import * as tasks from '../../src/storage/task-repository.js'
import { insert, newTask } from '../helpers/sq.js'
import { insertTasks } from '../../src/storage/bulk-insert.js'

// The compiled storage layer (as bin/run.js uses it): a child starts in a fraction of tsx's time.
const REPOSITORY = fileURLToPath(new URL('../../dist/src/storage/run-repository.js', import.meta.url))
const OPEN = fileURLToPath(new URL('../../dist/src/storage/open.js', import.meta.url))

/** Claims two at a time in a child process until nothing is left; returns the claimed ids. */
function claimInChild(url: string, name: string): Promise<string[]> {
  const script = `
    const { openConnection } = await import(${JSON.stringify(pathToFileURL(OPEN).href)})
    const { claimTasks } = await import(${JSON.stringify(pathToFileURL(REPOSITORY).href)})
    const d = await (await openConnection(${JSON.stringify(url)})).backend()
    const ids = []
    for (;;) {
      const got = await claimTasks(d, { workerId: ${JSON.stringify(name)}, workerName: ${JSON.stringify(name)}, pid: process.pid, queues: ['default'], limit: 2 })
      if (got.length === 0) break
      ids.push(...got.map((t) => t.id))
    }
    await d.close()
    console.log(JSON.stringify(ids))
  `
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 50_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${name}: ${stderr || error.message}`)) : resolve(JSON.parse(stdout) as string[]),
    )
  })
}

const claimer = (name: string, queues = ['default'], limit = 1): runs.ClaimOptions => ({
  workerId: name,
  workerName: `host:${name}`,
  pid: 1234,
  queues,
  limit,
})

for (const dialect of DIALECTS) {
  describeOn(dialect, `run repository (${dialect})`, () => {
    const t = useTestDatabase(dialect, { clean: true })
    let db: TestDatabase
    let d: Backend
    before(() => ({ db, d } = t))

    const setRunAt = (id: string, secondsAgo: number) =>
      d.db
        .updateTable('sq_tasks')
        .set({ run_at: new Date(Date.now() - secondsAgo * 1000).toISOString() })
        .where('id', '=', id)
        .execute()

    it('claims the highest priority first, then the oldest run_at, and skips delayed tasks and other queues', async () => {
      const low = await insert(d, { priority: 0 })
      const highNew = await insert(d, { priority: 5 })
      const highOld = await insert(d, { priority: 5 })
      await insert(d, { priority: 100, runAt: { afterSeconds: 3600 } }) // delayed
      await insert(d, { priority: 100, queue: 'other' })
      await setRunAt(low, 300)
      await setRunAt(highNew, 10)
      await setRunAt(highOld, 100)
      const order: string[] = []
      for (;;) {
        const claimed = await runs.claimTasks(d, claimer('w1'))
        if (claimed.length === 0) break
        assert.equal(claimed[0]!.status, 'progress')
        assert.equal(claimed[0]!.attempts, 1)
        assert.equal(claimed[0]!.worker, 'host:w1')
        assert.equal(claimed[0]!.worker_pid, 1234)
        assert.ok(claimed[0]!.started)
        order.push(claimed[0]!.id)
      }
      assert.deepEqual(order, [highOld, highNew, low])
      // The delayed task is still queued, not runnable before its time, and an idle worker knows when.
      const due = await runs.nextDue(d, ['default'])
      assert.ok(due !== null && due > 3_590_000 && due <= 3_600_000, `due in ${due} ms`)
      assert.equal(await runs.nextDue(d, ['nothing-here']), null)
    })

    // One bulk insert gives its rows one `created`; so does one millisecond to tasks enqueued one by one.
    it('claims tasks that tie on priority, run_at and created in the order they were enqueued', async () => {
      const bulk = Array.from({ length: 40 }, () => newTask())
      await insertTasks(d, bulk)
      const single: string[] = []
      for (let i = 0; i < 10; i++) single.push(await insert(d))
      const claimed: string[] = []
      for (const limit of [7, 20, 30])
        claimed.push(...(await runs.claimTasks(d, claimer('a', ['default'], limit))).map((t) => t.id))
      assert.deepEqual(claimed, [...bulk.map((t) => t.id), ...single])
    })

    it('claims each task exactly once among concurrent claimer processes', async function () {
      this.timeout(60_000)
      const ids = await Promise.all(Array.from({ length: 12 }, () => insert(d)))
      // Separate processes, as real workers are: better-sqlite3 is synchronous, so two connections in
      // one process would wait on each other's lock while holding the only thread.
      const claimed = (await Promise.all([1, 2, 3, 4].map((n) => claimInChild(db.url, `w${n}`)))).flat()
      assert.deepEqual([...claimed].sort(), [...ids].sort())
    })

    it('streams output in chunks that readers see live, and folds them in at the end', async () => {
      const id = await insert(d)
      const [run] = await runs.claimTasks(d, claimer('w1'))
      const ref = { id, claim: run!.claim }
      assert.ok(await runs.appendChunks(d, ref, { output: 'one\n', log: 'log a\n' }))
      assert.ok(
        await runs.appendChunks(d, ref, { output: 'two\n', progress: { current: 1, total: 2, message: 'half' } }),
      )
      const live = (await tasks.getTask(d, id))!
      assert.equal(live.output, 'one\ntwo\n')
      assert.equal(live.log, 'log a\n')
      assert.deepEqual(live.progress, { current: 1, total: 2, message: 'half' })
      assert.deepEqual(
        (await tasks.listTasks(d, { search: 'two', limit: 5 })).map((t) => t.id),
        [id],
        'search sees live output',
      )
      assert.ok(
        await verdicts.endRun(d, ref, { status: 'completed', durationMs: 12, cpuMs: 3, peakRssBytes: 5_000_000_000 }),
      )
      const done = (await tasks.getTask(d, id))!
      assert.equal(done.status, 'completed')
      assert.equal(done.output, 'one\ntwo\n')
      assert.equal(done.log, 'log a\n')
      assert.equal(done.peak_rss_bytes, 5_000_000_000)
      assert.ok(done.finished)
      const chunks = await d.db.selectFrom('sq_task_chunks').selectAll().where('task_id', '=', id).execute()
      assert.equal(chunks.length, 0, 'chunks are deleted once folded')
    })

    it('fencing: a stale attempt can neither append nor end the run, and changes nothing', async () => {
      const id = await insert(d)
      const [first] = await runs.claimTasks(d, claimer('w1'))
      const stale = { id, claim: first!.claim }
      assert.ok(await runs.appendChunks(d, stale, { output: 'old run\n' }))
      // The run is lost (cancelled), then the task is requeued and claimed again by another worker.
      assert.ok((await control.cancelTask(d, id))?.cancelled)
      assert.deepEqual(await runs.lostRuns(d, [stale]), [stale])
      assert.equal(await verdicts.endRun(d, stale, { status: 'completed' }), false)
      assert.equal((await tasks.getTask(d, id))!.status, 'cancelled', 'the verdict stands')
      await control.requeueTasks(d, [id])
      const [second] = await runs.claimTasks(d, claimer('w2'))
      assert.equal(second!.attempts, first!.attempts + 1)
      const current = { id, claim: second!.claim }
      const before = await d.db.selectFrom('sq_tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
      assert.equal(await runs.appendChunks(d, stale, { output: 'zombie\n', progress: { current: 9 } }), false)
      assert.equal(await verdicts.endRun(d, stale, { status: 'failed', error: 'zombie' }), false)
      const after = await d.db.selectFrom('sq_tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
      assert.deepEqual(after, before, 'the stale writes changed nothing')
      assert.deepEqual(await runs.lostRuns(d, [stale, current]), [stale])
      assert.ok(await runs.appendChunks(d, current, { output: 'new run\n' }))
      assert.ok(await verdicts.endRun(d, current, { status: 'completed' }))
      const done = (await tasks.getTask(d, id))!
      assert.equal(done.status, 'completed')
      assert.equal(done.output, 'new run\n', 'only the current run’s output')
      assert.equal(done.worker, 'host:w2')
    })

    it('cancels a task in progress, keeping its output; an ended task is not cancelled', async () => {
      const id = await insert(d)
      const [run] = await runs.claimTasks(d, claimer('w1'))
      await runs.appendChunks(d, { id, claim: run!.claim }, { output: 'partial' })
      assert.equal((await control.cancelTask(d, id))?.cancelled, true)
      const got = (await tasks.getTask(d, id))!
      assert.equal(got.status, 'cancelled')
      assert.equal(got.output, 'partial')
      assert.match(got.error!, /cancel/i)
      assert.equal((await control.cancelTask(d, id))?.cancelled, false)
    })

    it('keeps attempts monotonic across retries and requeues, and a requeue grants one more run', async () => {
      const id = await insert(d, { maxAttempts: 2 })
      const seen: number[] = []
      const runOnce = async (status: 'queued' | 'failed' | 'completed') => {
        const [run] = await runs.claimTasks(d, claimer('w'))
        assert.equal(run?.id, id)
        seen.push(run!.attempts)
        assert.ok(
          await verdicts.endRun(
            d,
            { id, claim: run!.claim },
            status === 'queued'
              ? { status, error: 'boom', retryAfterSeconds: 0 }
              : status === 'failed'
                ? { status, error: 'boom' }
                : { status },
          ),
        )
      }
      await runOnce('queued') // a retry with backoff 0
      await runOnce('failed')
      let t = (await tasks.getTask(d, id))!
      assert.equal(t.attempts, 2)
      await control.requeueTasks(d, [id])
      t = (await tasks.getTask(d, id))!
      assert.equal(t.attempts, 2, 'a requeue does not reset attempts')
      assert.ok(t.max_attempts > t.attempts, 'and allows another run')
      await runOnce('completed')
      assert.deepEqual(seen, [1, 2, 3])
      assert.equal((await tasks.getTask(d, id))!.status, 'completed')
    })
  })
}
