import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { Activity } from '../../src/activity.js'
import { PANE_MAX_CHARS, snapshot, queueMonitor, type Snapshot } from '../../src/monitor.js'
import { Queue } from '../../src/queue/queue.js'
import type { Backend } from '../../src/storage/backend.js'
import { appendChunks, claimTasks } from '../../src/storage/run-repository.js'
import { endRun } from '../../src/storage/run-verdict.js'
import { registerWorker } from '../../src/storage/worker-repository.js'
import { createTestDatabase, DIALECTS, describeOn, type TestDatabase } from '../helpers/db.js'
import { assertIndexed, explainingDialect } from '../helpers/explain.js'

/** The queries of `sq top` against real databases: what a snapshot holds, and that every query is indexed. */

for (const dialect of DIALECTS) {
  describeOn(dialect, `sq top snapshot (${dialect})`, () => {
    let db: TestDatabase
    let queue: Queue
    let d: Backend

    before(async () => {
      db = await createTestDatabase(dialect)
      fs.writeFileSync(
        path.join(db.dir, 'jobs.mjs'),
        'export async function count() {}\nexport async function boom() {}\n',
      )
      queue = await Queue.open({ db: db.url, root: db.dir })
      d = queue.backend
    })
    after(async () => {
      await queue?.close()
      await db?.drop()
    })
    beforeEach(async () => {
      await d.db.deleteFrom('sq_tasks').execute()
      await d.db.deleteFrom('sq_workers').execute()
    })

    async function claimOne(task = 'jobs#count') {
      const { id } = await queue.enqueue({ task })
      await registerWorker(d, {
        id: 'w1',
        name: 'host-a:101',
        host: 'host-a',
        pid: 101,
        queues: ['default'],
        concurrency: 2,
      }).catch(() => {})
      const [claimed] = await claimTasks(d, {
        workerId: 'w1',
        workerName: 'host-a:101',
        pid: 101,
        queues: ['default'],
        limit: 1,
      })
      assert.equal(claimed?.id, id)
      return { id, claim: claimed!.claim }
    }

    it('is empty for an empty queue', async () => {
      const s = await snapshot(d)
      assert.deepEqual(s.counts, { queued: 0, progress: 0, completed: 0, failed: 0, cancelled: 0 })
      assert.equal(s.total, 0)
      assert.deepEqual(s.running, [])
      assert.deepEqual(s.listed, { status: 'failed', tasks: [] })
      assert.deepEqual(s.workers, [])
      assert.equal(s.pane, null)
      assert.deepEqual(s.throughput, { completed: 0, failed: 0, windowSeconds: 60 })
      assert.ok(!Number.isNaN(Date.parse(s.at)))
    })

    it('shows a running task, selects it, and streams its output incrementally', async () => {
      await queue.enqueue({ task: 'jobs#count', queue: 'later' }) // stays queued: no worker takes 'later'
      const run = await claimOne()
      await appendChunks(d, run, { output: 'line 0\n', log: 'debug 0\n' })
      await appendChunks(d, run, { output: 'line 1\n\n', progress: { current: 1, total: 4, message: 'half' } })

      const s1 = await snapshot(d)
      assert.equal(s1.counts.queued, 1)
      assert.equal(s1.counts.progress, 1)
      assert.equal(s1.running.length, 1)
      const r = s1.running[0]!
      assert.equal(r.id, run.id)
      assert.equal(r.worker, 'host-a:101')
      assert.equal(r.lastLine, 'line 1')
      assert.deepEqual(r.progress, { current: 1, total: 4, message: 'half' })
      assert.ok(r.elapsedMs >= 0 && r.elapsedMs < 60_000, `elapsed ${r.elapsedMs}`)
      assert.deepEqual(
        s1.workers.map((w) => w.name),
        ['host-a:101'],
      )
      // The first running task is selected when nothing is.
      assert.equal(s1.pane?.id, run.id)
      assert.equal(s1.pane?.status, 'progress')
      assert.equal(s1.pane?.text, 'line 0\nline 1\n\n')
      assert.ok(s1.pane!.cursor!.seq > 0)

      await appendChunks(d, run, { output: 'line 2\n' })
      const s2 = await snapshot(d, { selectedId: run.id, previous: s1 })
      assert.equal(s2.pane?.text, 'line 0\nline 1\n\nline 2\n')
      assert.ok(s2.pane!.cursor!.seq > s1.pane!.cursor!.seq)

      // The continuation reads only after the cursor: a stale `previous` text is extended, not re-read.
      const doctored: Snapshot = { ...s2, pane: { ...s2.pane!, text: 'KEPT\n' } }
      await appendChunks(d, run, { output: 'line 3\n' })
      const s3 = await snapshot(d, { selectedId: run.id, previous: doctored })
      assert.equal(s3.pane?.text, 'KEPT\nline 3\n')

      const log = await snapshot(d, { selectedId: run.id, stream: 'log', previous: s3 })
      assert.equal(log.pane?.stream, 'log')
      assert.equal(log.pane?.text, 'debug 0\n')
    })

    it('keeps only the tail of a long output, and says so', async () => {
      const run = await claimOne()
      const chunk = `${'x'.repeat(1023)}\n`
      const rows = Array.from({ length: 600 }, () => ({
        task_id: run.id,
        claim: run.claim,
        stream: 'output' as const,
        data: chunk,
      }))
      await d.db.insertInto('sq_task_chunks').values(rows).execute()
      const s = await snapshot(d)
      assert.equal(s.pane?.clipped, true)
      assert.ok(s.pane!.text.length <= PANE_MAX_CHARS)
      assert.ok(s.pane!.text.endsWith(chunk))
    })

    it('lists failures newest first with the first line of their error, and counts throughput', async () => {
      const a = await claimOne('jobs#boom')
      await appendChunks(d, a, { output: 'partial\n' })
      await endRun(d, a, { status: 'failed', error: '\nError: boom\n    at boom (jobs.mjs:1:1)' })
      const b = await claimOne('jobs#count')
      await endRun(d, b, { status: 'completed' })

      const s = await snapshot(d)
      assert.equal(s.counts.failed, 1)
      assert.equal(s.counts.completed, 1)
      assert.deepEqual(s.throughput, { completed: 1, failed: 1, windowSeconds: 60 })
      assert.equal(s.running.length, 0)
      assert.equal(s.pane, null)
      assert.deepEqual(
        s.listed.tasks.map((t) => [t.id, t.line]),
        [[a.id, 'Error: boom']],
      )

      // An ended task's pane comes from the row: its output and its error.
      const p = await snapshot(d, { selectedId: a.id })
      assert.equal(p.pane?.status, 'failed')
      assert.equal(p.pane?.text, 'partial\n')
      assert.match(p.pane?.error ?? '', /Error: boom/)
    })

    it('follows a selected task from running to completed', async () => {
      const run = await claimOne()
      await appendChunks(d, run, { output: 'a\n' })
      const s1 = await snapshot(d, { selectedId: run.id })
      await appendChunks(d, run, { output: 'b\n' })
      await endRun(d, run, { status: 'completed' })
      const s2 = await snapshot(d, { selectedId: run.id, previous: s1 })
      assert.equal(s2.pane?.status, 'completed')
      assert.equal(s2.pane?.text, 'a\nb\n')
      assert.ok(s2.pane!.elapsedMs !== null && s2.pane!.elapsedMs >= 0)
    })

    it('re-counts ended tasks only every few seconds, active ones every time', async () => {
      const a = await claimOne()
      const activity = new Activity(d, { heartbeatTimeout: 30, endedCountsMaxAgeMs: 60_000 })
      await snapshot(activity)
      await endRun(d, a, { status: 'completed' })
      await queue.enqueue({ task: 'jobs#count', queue: 'later' })
      const s2 = await snapshot(activity)
      assert.deepEqual([s2.counts.queued, s2.counts.progress, s2.counts.completed], [1, 0, 0], 'ended counts reused')
      activity.forget()
      const s3 = await snapshot(activity)
      assert.deepEqual([s3.counts.queued, s3.counts.progress, s3.counts.completed], [1, 0, 1], 'ended counts re-read')
      assert.equal(s3.total, 2)
      const fresh = await snapshot(new Activity(d, { heartbeatTimeout: 30, endedCountsMaxAgeMs: 0 }))
      assert.equal(fresh.counts.completed, 1, 'a max age of 0 re-counts every time')
    })

    it('filters running tasks and failures by task name', async () => {
      await claimOne('jobs#count')
      const f = await claimOne('jobs#boom')
      await endRun(d, f, { status: 'failed', error: 'Error: x' })
      const s = await snapshot(d, { filter: 'boom' })
      assert.equal(s.running.length, 0)
      assert.equal(s.listed.tasks.length, 1)
      const t = await snapshot(d, { filter: 'jobs#c*' })
      assert.equal(t.running.length, 1)
      assert.equal(t.listed.tasks.length, 0)
      assert.equal(t.counts.progress, 1, 'counts are not filtered')
    })

    it('lists queued tasks longest waiting first and completed ones newest first, filtered, with indexed queries', async () => {
      // In a queue of their own, so claimOne takes none of them.
      const first = await queue.enqueue({ task: 'jobs#count', queue: 'later' })
      const second = await queue.enqueue({ task: 'jobs#boom', queue: 'later' })
      await d.db
        .updateTable('sq_tasks')
        .set({ modified: new Date(Date.now() - 60_000).toISOString() })
        .where('id', '=', first.id)
        .execute()
      const done = await claimOne('jobs#count')
      await endRun(d, done, { status: 'completed', tail: { output: '\n  report ready\nmore\n' } })

      const queued = await snapshot(d, { list: 'queued' })
      assert.equal(queued.listed.status, 'queued')
      assert.deepEqual(
        queued.listed.tasks.map((t) => t.id),
        [first.id, second.id],
      )
      assert.ok(queued.listed.tasks[0]!.agoMs >= 59_000, 'how long it has waited')
      assert.equal(queued.listed.tasks[0]!.delayMs, undefined, 'it may run now')
      const delayed = await queue.enqueue({ task: 'jobs#count', queue: 'later', delaySeconds: 7200 })
      const withDelayed = (await snapshot(d, { list: 'queued' })).listed.tasks.find((t) => t.id === delayed.id)!
      assert.ok(Math.abs(withDelayed.delayMs! - 7_200_000) < 60_000, `delayed by 2h: ${withDelayed.delayMs}`)
      await d.db.deleteFrom('sq_tasks').where('id', '=', delayed.id).execute()
      const completed = await snapshot(d, { list: 'completed' })
      assert.deepEqual(
        completed.listed.tasks.map((t) => [t.id, t.line]),
        [[done.id, 'report ready']],
      )
      const filtered = await snapshot(d, { list: 'queued', filter: '*#boom' })
      assert.deepEqual(
        filtered.listed.tasks.map((t) => t.task),
        ['jobs#boom'],
      )
      assert.deepEqual((await snapshot(d)).listed, { status: 'failed', tasks: [] }, 'the failures by default')

      const { logged, plans, close } = await explainingDialect(db, d)
      try {
        await snapshot(logged, { list: 'queued' })
        await snapshot(logged, { list: 'completed', filter: 'jobs' })
        assertIndexed(dialect, await plans(), ['t', 'c'])
      } finally {
        await close()
      }
    })

    it('cancels and requeues through the Queue', async () => {
      const source = queueMonitor(queue)
      const run = await claimOne()
      assert.match(await source.requeue(run.id), /not requeued/)
      assert.match(await source.cancel(run.id), /^cancelled/)
      assert.equal((await queue.get(run.id)).status, 'cancelled')
      assert.match(await source.requeue(run.id), /^requeued/)
      assert.equal((await queue.get(run.id)).status, 'queued')
    })

    it('runs only indexed queries on sq_tasks and sq_task_chunks', async () => {
      const run = await claimOne()
      await appendChunks(d, run, { output: 'x\n' })
      const done = await claimOne('jobs#boom')
      await endRun(d, done, { status: 'failed', error: 'e' })
      const { logged, plans, close } = await explainingDialect(db, d)
      try {
        await snapshot(logged, { filter: 'jobs' })
        const s = await snapshot(logged, { selectedId: run.id })
        await snapshot(logged, { selectedId: run.id, previous: s })
        await snapshot(logged, { selectedId: done.id, stream: 'log' })
        const all = await plans()
        assert.ok(all.length >= 8, `only ${all.length} queries seen`)
        assertIndexed(dialect, all, ['t', 'c'])
      } finally {
        await close()
      }
    })
  })
}
