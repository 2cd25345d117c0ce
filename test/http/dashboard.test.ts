import assert from 'node:assert/strict'
import fs from 'node:fs'
import type { Task } from '../../src/index.js'
import { snapshot } from '../../src/monitor.js'
import { appendChunks, claimTasks } from '../../src/storage/run-repository.js'
import { registerWorker } from '../../src/storage/worker-repository.js'
import type { Status } from '../../src/types.js'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { pageToken, parseMetrics, rawRequest, startServe } from '../helpers/serve.js'
import { waitFor } from '../helpers/wait.js'
import { workerSuite, type WorkerSuite } from '../helpers/worker.js'
import { TASKS } from '../worker/fixtures.js'

/**
 * `sq serve` as a dashboard: its JSON API, /metrics, the actions and their guards, and the live output
 * stream, against a real server process (and a real worker for the stream).
 */

/** Puts a task straight into an ended status, as a worker would have left it. */
async function end(
  s: WorkerSuite,
  id: string,
  status: Status,
  o: { durationMs?: number; error?: string; output?: string } = {},
) {
  await s.queue.backend.db
    .updateTable('sq_tasks')
    .set({
      status,
      duration_ms: o.durationMs ?? null,
      error: o.error ?? null,
      output: o.output ?? null,
      attempts: status === 'cancelled' ? 0 : 1,
      started: status === 'cancelled' ? null : new Date().toISOString(),
      finished: new Date().toISOString(),
      modified: new Date().toISOString(),
    })
    .where('id', '=', id)
    .execute()
}

async function json<T = any>(res: Response | Promise<Response>): Promise<{ status: number; body: T }> {
  const r = await res
  return { status: r.status, body: (await r.json()) as T }
}

/** Reads an SSE response until `done` says so, returning the events seen. */
async function readEvents(
  res: Response,
  done: (events: Array<{ event: string; data: any }>) => boolean,
  timeoutMs = 15_000,
) {
  const events: Array<{ event: string; data: any }> = []
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  const deadline = Date.now() + timeoutMs
  while (!done(events)) {
    if (Date.now() > deadline)
      throw new Error(`no matching events within ${timeoutMs} ms; got ${JSON.stringify(events)}`)
    const { value, done: ended } = await reader.read()
    if (ended) break
    buffer += value
    let cut: number
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut)
      buffer = buffer.slice(cut + 2)
      const event = /^event: (.*)$/m.exec(block)?.[1]
      const data = /^data: (.*)$/m.exec(block)?.[1]
      if (event && data) events.push({ event, data: JSON.parse(data) })
    }
  }
  return { events, reader }
}

for (const dialect of DIALECTS) {
  describeOn(dialect, `sq serve dashboard (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS })

    it('GET /api/overview counts tasks per status and per queue, with the oldest queued age', async () => {
      const ids = await Promise.all([1, 2, 3, 4, 5].map(() => s.enqueue('tasks#text')))
      await end(s, ids[0]!, 'completed', { durationMs: 10 })
      await end(s, ids[1]!, 'failed', { durationMs: 10, error: 'boom' })
      await end(s, ids[2]!, 'cancelled')
      await s.queue.backend.db
        .updateTable('sq_tasks')
        .set({ run_at: new Date(Date.now() - 90_000).toISOString() })
        .where('id', '=', ids[3]!)
        .execute()
      const served = await startServe(s)
      try {
        const { status, body } = await json(fetch(`${served.base}/api/overview`))
        assert.equal(status, 200)
        const mine = body.queues.find((q: any) => q.queue === s.q)
        assert.deepEqual(mine.counts, { queued: 2, progress: 0, completed: 1, failed: 1, cancelled: 1 })
        assert.ok(
          mine.oldest_queued_age_seconds >= 89 && mine.oldest_queued_age_seconds < 120,
          String(mine.oldest_queued_age_seconds),
        )
        const total = body.queues.reduce((n: number, q: any) => n + q.counts.queued, 0)
        assert.equal(body.counts.queued, total, 'the status counts add up over the queues')
        assert.deepEqual(body.actions, { enabled: false, pause: false })
        assert.equal(body.schedules, null, 'no Schedules section without schedules')
        assert.deepEqual(body.running, [])
      } finally {
        await served.stop()
      }
    })

    it("GET /api/overview shows a running task's last line and progress as sq top does", async () => {
      const id = await s.enqueue('tasks#text')
      const d = s.queue.backend
      const [run] = await claimTasks(d, { workerId: 'w', workerName: 'h:1', pid: 1, queues: [s.q], limit: 1 })
      assert.equal(run?.id, id)
      await appendChunks(d, run!, {
        output: 'first\n  indented last  \n\n',
        progress: { current: 1, total: 2, message: 'half' },
      })
      const served = await startServe(s)
      try {
        const { body } = await json(fetch(`${served.base}/api/overview`))
        const mine = body.running.find((r: any) => r.id === id)
        const top = (await snapshot(d)).running.find((r) => r.id === id)!
        assert.equal(mine.last_line, 'indented last')
        assert.equal(mine.last_line, top.lastLine)
        assert.deepEqual(mine.progress, { current: 1, total: 2, message: 'half' })
        assert.equal(mine.progress_text, '1/2 half')
        assert.deepEqual([mine.attempts, mine.claims], [1, 1])
      } finally {
        await served.stop()
        await d.db.deleteFrom('sq_tasks').where('id', '=', id).execute()
      }
    })

    it('GET /api/tasks filters by status and queue, searches, and pages newest first', async () => {
      const ids: string[] = []
      for (let i = 0; i < 5; i++) ids.push(await s.enqueue('tasks#text', { note: `needle-${i}` }))
      await end(s, ids[4]!, 'failed', { error: 'Error: the disk is full' })
      const served = await startServe(s)
      try {
        const api = (query: string) => json(fetch(`${served.base}/api/tasks?queue=${s.q}&${query}`))
        const first = await api('status=queued&limit=3')
        assert.equal(first.status, 200)
        assert.equal(first.body.tasks.length, 3)
        assert.equal(first.body.more, true)
        const second = await api('status=queued&limit=3&page=2')
        assert.equal(second.body.tasks.length, 1)
        assert.equal(second.body.more, false)
        const paged = [...first.body.tasks, ...second.body.tasks].map((t: any) => t.id)
        assert.deepEqual(new Set(paged), new Set(ids.slice(0, 4)), 'the pages hold every queued task once')
        assert.equal((await api('status=failed')).body.tasks[0].id, ids[4])
        assert.equal((await api('status=failed')).body.tasks[0].error_head, 'Error: the disk is full')
        assert.deepEqual(
          (await api('q=NEEDLE-2')).body.tasks.map((t: any) => t.id),
          [ids[2]],
          'search in args, any case',
        )
        assert.deepEqual(
          (await api('q=disk is')).body.tasks.map((t: any) => t.id),
          [ids[4]],
          'search in errors',
        )
        assert.deepEqual(
          (await api(`q=${ids[1]!.slice(0, 13)}`)).body.tasks.map((t: any) => t.id),
          [ids[1]],
          'search by id',
        )
        assert.equal((await api('status=bogus')).status, 400)
        assert.equal((await api('page=0')).status, 400)
        const one = await json<Task>(fetch(`${served.base}/api/tasks/${ids[2]!.slice(0, 8)}`))
        assert.equal(one.body.id, ids[2])
        assert.deepEqual(one.body.args, { note: 'needle-2' })
        assert.ok(
          Array.isArray((one.body as Task & { runs: unknown[] }).runs),
          'the record comes with its runs, as sq show --json',
        )
        assert.equal((await fetch(`${served.base}/api/tasks/00000000-0000-4000-8000-000000000000`)).status, 404)
      } finally {
        await served.stop()
      }
    })

    it('GET /api/throughput counts completions and failures per minute by the database clock', async () => {
      const served = await startServe(s)
      try {
        const sum = async () => {
          const { body } = await json(fetch(`${served.base}/api/throughput`))
          assert.equal(body.bucket_seconds, 60)
          assert.equal(body.buckets.length, 60)
          return body.buckets.reduce(
            (n: any, b: any) => ({ completed: n.completed + b.completed, failed: n.failed + b.failed }),
            {
              completed: 0,
              failed: 0,
            },
          )
        }
        const before = await sum()
        const ids = await Promise.all([1, 2, 3, 4].map(() => s.enqueue('tasks#text')))
        for (const id of ids.slice(0, 3)) await end(s, id, 'completed', { durationMs: 5 })
        await end(s, ids[3]!, 'failed', { durationMs: 5 })
        const after = await sum()
        assert.deepEqual(
          { completed: after.completed - before.completed, failed: after.failed - before.failed },
          { completed: 3, failed: 1 },
        )
      } finally {
        await served.stop()
      }
    })

    it('GET /metrics: tasks per queue and status, oldest queued age, runs ended, a duration histogram, live workers', async () => {
      const a = `tasks#${s.q}_a`
      const ids = await Promise.all([1, 2, 3, 4, 5].map(() => s.enqueue(a)))
      await end(s, ids[0]!, 'completed', { durationMs: 30 })
      await end(s, ids[1]!, 'completed', { durationMs: 700 })
      await end(s, ids[2]!, 'failed', { durationMs: 2000 })
      await s.queue.backend.db
        .updateTable('sq_tasks')
        .set({ run_at: new Date(Date.now() - 30_000).toISOString() })
        .where('id', '=', ids[3]!)
        .execute()
      const served = await startServe(s)
      try {
        const res = await fetch(`${served.base}/metrics`)
        assert.equal(res.status, 200)
        assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
        const text = await res.text()
        assert.match(text, /# TYPE sq_run_duration_seconds histogram/)
        assert.match(text, /# TYPE sq_runs_ended_total counter/)
        const m = parseMetrics(text)
        const q = s.q
        assert.equal(m.get(`sq_tasks{queue="${q}",status="queued"}`), 2)
        assert.equal(m.get(`sq_tasks{queue="${q}",status="completed"}`), 2)
        assert.equal(m.get(`sq_tasks{queue="${q}",status="failed"}`), 1)
        assert.equal(m.get(`sq_tasks{queue="${q}",status="progress"}`), 0)
        const age = m.get(`sq_oldest_queued_age_seconds{queue="${q}"}`)!
        assert.ok(age >= 29 && age < 60, `oldest queued age ${age}`)
        assert.equal(m.get(`sq_runs_ended_total{task="${a}",status="completed"}`), 2)
        assert.equal(m.get(`sq_runs_ended_total{task="${a}",status="failed"}`), 1)
        const bucket = (le: string) => m.get(`sq_run_duration_seconds_bucket{task="${a}",le="${le}"}`)
        assert.deepEqual(['0.01', '0.05', '0.5', '1', '5', '+Inf'].map(bucket), [0, 1, 1, 2, 3, 3])
        assert.equal(m.get(`sq_run_duration_seconds_count{task="${a}"}`), 3)
        assert.ok(Math.abs(m.get(`sq_run_duration_seconds_sum{task="${a}"}`)! - 2.73) < 1e-9)
        const workers = m.get('sq_workers_live')!

        // Numbers come from the database at each scrape: a new worker row and a purge show at once.
        await registerWorker(s.queue.backend, {
          id: `w-${q}`,
          name: 'host:1',
          host: 'host',
          pid: 1,
          queues: [q],
          concurrency: 1,
        })
        await s.queue.backend.db.deleteFrom('sq_tasks').where('id', '=', ids[0]!).execute()
        const again = parseMetrics(await (await fetch(`${served.base}/metrics`)).text())
        assert.equal(again.get('sq_workers_live'), workers + 1)
        assert.equal(again.get(`sq_runs_ended_total{task="${a}",status="completed"}`), 1)
        assert.equal(again.get(`sq_run_duration_seconds_count{task="${a}"}`), 2)
        await s.queue.backend.db.deleteFrom('sq_workers').where('id', '=', `w-${q}`).execute()
      } finally {
        await served.stop()
      }
    })

    it('actions: 403 without --allow-actions; no buttons and no token in the page', async () => {
      const id = await s.enqueue('tasks#text')
      const served = await startServe(s)
      try {
        assert.equal(await pageToken(served.base), null)
        const res = await rawRequest(served.port, {
          method: 'POST',
          path: `/api/tasks/${id}/cancel`,
          headers: { 'x-sq-token': 'anything' },
        })
        assert.equal(res.status, 403)
        assert.match(JSON.parse(res.body).error, /--allow-actions/)
        assert.equal((await s.get(id)).status, 'queued')
      } finally {
        await served.stop()
      }
    })

    it('actions with --allow-actions: POST with the page token cancels and requeues; no token, a wrong one, another origin or a GET do not', async () => {
      const id = await s.enqueue('tasks#text')
      const served = await startServe(s, ['--allow-actions'])
      try {
        const token = await pageToken(served.base)
        assert.ok(token && token.length >= 20, 'the page carries a token')
        const post = (path: string, headers: Record<string, string>) =>
          rawRequest(served.port, { method: 'POST', path, headers })
        const cancel = `/api/tasks/${id}/cancel`
        assert.equal((await post(cancel, {})).status, 403, 'no token')
        assert.equal(
          (await post(cancel, { 'x-sq-token': token!.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')) })).status,
          403,
          'wrong token',
        )
        assert.equal(
          (await post(cancel, { 'x-sq-token': token!, origin: 'http://evil.example' })).status,
          403,
          'another origin',
        )
        assert.equal(
          (await post(cancel, { 'x-sq-token': token!, 'sec-fetch-site': 'cross-site' })).status,
          403,
          'cross-site',
        )
        const get = await rawRequest(served.port, {
          path: `${cancel}?x-sq-token=${token}`,
          headers: { 'x-sq-token': token! },
        })
        assert.equal(get.status, 405, 'never by GET')
        assert.equal(get.headers.allow, 'POST')
        assert.equal((await s.get(id)).status, 'queued', 'none of those changed the task')

        const ok = await post(cancel, { 'x-sq-token': token!, origin: served.base, 'sec-fetch-site': 'same-origin' })
        assert.equal(ok.status, 200, ok.body)
        assert.deepEqual(JSON.parse(ok.body), { id, cancelled: true, was: 'queued', message: `cancelled ${id}` })
        assert.equal((await s.get(id)).status, 'cancelled')
        const twice = JSON.parse((await post(cancel, { 'x-sq-token': token! })).body)
        assert.equal(twice.message, `not cancelled: ${id} is already cancelled`)

        const requeue = await post(`/api/tasks/${id}/requeue`, { 'x-sq-token': token! })
        assert.equal(requeue.status, 200)
        assert.equal(JSON.parse(requeue.body).requeued, true)
        assert.equal((await s.get(id)).status, 'queued')
        assert.equal(
          (await post('/api/tasks/00000000-0000-4000-8000-000000000000/cancel', { 'x-sq-token': token! })).status,
          404,
        )
      } finally {
        await served.stop()
      }
    })

    it('bulk actions: the same guards; a dry run counts, the action requeues or purges', async () => {
      const ids = await Promise.all([1, 2, 3].map(() => s.enqueue('tasks#text')))
      await end(s, ids[0]!, 'failed')
      await end(s, ids[1]!, 'failed')
      await end(s, ids[2]!, 'completed')
      const served = await startServe(s, ['--allow-actions'])
      try {
        const token = (await pageToken(served.base))!
        const post = async (path: string, headers: Record<string, string> = { 'x-sq-token': token }) => {
          const res = await rawRequest(served.port, { method: 'POST', path, headers })
          return { status: res.status, body: JSON.parse(res.body) }
        }
        const retry = `/api/queues/${s.q}/retry-failed`
        assert.equal((await post(retry, {})).status, 403, 'no token')
        assert.equal((await post(retry, { 'x-sq-token': token, origin: 'http://evil.example' })).status, 403)
        assert.equal((await rawRequest(served.port, { path: retry })).status, 405, 'never by GET')
        assert.deepEqual((await post(`${retry}?dry_run=1`)).body, {
          count: 2,
          dry_run: true,
          message: `2 failed tasks in queue ${s.q}`,
        })
        assert.equal((await s.get(ids[0]!)).status, 'failed', 'a dry run changes nothing')
        assert.equal((await post(retry)).body.message, `requeued 2 failed tasks in queue ${s.q}`)
        assert.equal((await s.get(ids[1]!)).status, 'queued')

        assert.equal((await post('/api/purge?older_than=7')).status, 400, 'a duration needs a unit')
        assert.equal((await post('/api/purge?older_than=1d&status=queued')).status, 400, 'only ended tasks')
        await new Promise((r) => setTimeout(r, 50))
        // Purge is not per queue: the completed tasks of this file's earlier tests count too.
        const { count } = (await post('/api/purge?older_than=10ms&dry_run=1')).body
        assert.ok(count >= 1)
        assert.equal((await s.get(ids[2]!)).status, 'completed', 'a dry run changes nothing')
        assert.equal((await post('/api/purge?older_than=1d')).body.message, 'purged 0 completed tasks older than 1d')
        assert.match(
          (await post('/api/purge?older_than=10ms')).body.message,
          new RegExp(`^purged ${count} completed tasks? older than 10ms$`),
        )
        await assert.rejects(s.get(ids[2]!), /no task/)
      } finally {
        await served.stop()
      }
    })

    it('checks the Host header on the dashboard, the API and /metrics (421)', async () => {
      const served = await startServe(s)
      try {
        for (const path of ['/', '/api/overview', '/metrics', '/assets/dashboard.js']) {
          assert.equal((await rawRequest(served.port, { path })).status, 200, path)
          const evil = await rawRequest(served.port, { path, headers: { host: `evil.example:${served.port}` } })
          assert.equal(evil.status, 421, path)
          assert.doesNotMatch(evil.body, /sq_tasks|queues/)
        }
        assert.equal((await rawRequest(served.port, { path: '/nowhere' })).status, 404)
      } finally {
        await served.stop()
      }
    })

    it('SIGTERM stops sq serve while a browser still holds an event stream open', async () => {
      const id = await s.enqueue('tasks#text')
      const served = await startServe(s)
      const res = await fetch(`${served.base}/api/tasks/${id}/events`)
      const { events } = await readEvents(res, (e) => e.some((x) => x.event === 'state'))
      assert.deepEqual(events[0], { event: 'state', data: { status: 'queued', attempt: 0 } })
      served.proc.signal('SIGTERM')
      // Without closing open connections, server.close() would wait for the browser forever.
      const exit = await served.proc.ended(5000)
      assert.deepEqual(exit, { code: 0, signal: null })
    })

    it("streams a running task's output over SSE as the worker writes it, then its end", async () => {
      const gate = s.file('gate')
      const id = await s.enqueue('tasks#gated', { gate })
      const served = await startServe(s)
      const worker = s.worker()
      try {
        const res = await fetch(`${served.base}/api/tasks/${id}/events`)
        assert.equal(res.status, 200)
        assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/)
        const text = (events: Array<{ event: string; data: any }>) =>
          events
            .filter((e) => e.event === 'output')
            .map((e) => e.data.text)
            .join('')
        const first = await readEvents(res, (events) => text(events).includes('part one;'))
        assert.ok(!text(first.events).includes('part two'), 'the first part arrives while the task still waits')
        fs.writeFileSync(gate, '')
        const events = [...first.events]
        let buffer = ''
        for (;;) {
          const { value, done } = await first.reader.read()
          if (done) break
          buffer += value
        }
        for (const block of buffer.split('\n\n')) {
          const event = /^event: (.*)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (event && data) events.push({ event, data: JSON.parse(data) })
        }
        assert.equal(text(events), 'part one; part two', 'every piece exactly once')
        assert.deepEqual(events.at(-1), { event: 'end', data: { status: 'completed' } })
        // An ended task streams its output at once and ends.
        const later = await readEvents(await fetch(`${served.base}/api/tasks/${id}/events`), (e) =>
          e.some((x) => x.event === 'end'),
        )
        assert.equal(text(later.events), 'part one; part two')
        assert.equal((await fetch(`${served.base}/api/tasks/00000000-0000-4000-8000-000000000000/events`)).status, 404)
      } finally {
        worker.signal('SIGTERM')
        await worker.ended()
        await served.stop()
      }
      await waitFor(async () => (await s.get(id)).status === 'completed', 10_000, 'the task to be completed')
    })
  })
}
