import assert from 'node:assert/strict'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { rawRequest, startServe, type Served } from '../helpers/serve.js'
import { insertTask } from '../../src/storage/task-repository.js'
import { newTask } from '../helpers/sq.js'
import { workerSuite, type WorkerSuite } from '../helpers/worker.js'

/**
 * `sq serve` behind a reverse proxy (`--public-url`, SQ_PUBLIC_URL), the address it refuses to bind,
 * and the size of /metrics with a huge task name. Requests carry the Host and Origin a proxy sends.
 */

const PUBLIC = 'https://sq.example.com'

/** One line on stderr, exit 2, nothing on stdout. */
async function refused(s: WorkerSuite, args: string[], pattern: RegExp): Promise<string> {
  const p = s.sq(args)
  const exit = await p.ended()
  assert.equal(exit.code, 2, p.output)
  assert.equal(p.stdout, '')
  assert.equal(p.stderr.trim().split('\n').length, 1, p.stderr)
  assert.match(p.stderr, pattern)
  return p.stderr
}

for (const dialect of DIALECTS) {
  describeOn(dialect, `sq serve behind a proxy, and its limits (${dialect})`, function () {
    this.timeout(60_000)
    let served: Served | undefined
    afterEach(async () => {
      await served?.stop()
      served = undefined
    })
    const s = workerSuite(dialect, { 'tasks.mjs': 'export function never() {}\n' })

    it('refuses an empty --host and a public URL that is not an http(s) origin, in one line', async () => {
      await refused(s, ['serve', '--host', '', '--port', '0'], /^sq: --host must name the address to bind/)
      await refused(s, ['serve', '--public-url', 'ftp://sq.example.com', '--port', '0'], /publicUrl from flag must be/)
      await refused(s, ['serve', '--public-url', `${PUBLIC}/sq/`, '--port', '0'], /publicUrl from flag must be/)
      const secret = await refused(
        s,
        ['serve', '--public-url', 'https://me:hunter2@sq.example.com', '--port', '0'],
        /must not hold a user name or password/,
      )
      assert.doesNotMatch(secret, /hunter2/)
    })

    it('answers the Host and accepts the https Origin of --public-url, and no others', async () => {
      const proxied = { host: 'sq.example.com', origin: PUBLIC, 'sec-fetch-site': 'same-origin' }
      served = await startServe(s)
      assert.equal((await rawRequest(served.port, { path: '/', headers: { host: 'sq.example.com' } })).status, 421)
      await served.stop()

      served = await startServe(s, ['--allow-actions', '--public-url', `${PUBLIC},http://other.example:8080`])
      for (const host of ['sq.example.com', 'SQ.example.com:443', 'other.example:8080']) {
        const page = await rawRequest(served.port, { path: '/', headers: { host } })
        assert.equal(page.status, 200, host)
      }
      for (const host of ['evil.example', 'sq.example.com:8443', 'other.example']) {
        assert.equal((await rawRequest(served.port, { path: '/', headers: { host } })).status, 421, host)
      }
      const page = await rawRequest(served.port, { path: '/', headers: { host: 'sq.example.com' } })
      const token = /<meta name="sq-token" content="([^"]+)">/.exec(page.body)![1]!
      const id = await s.enqueue('tasks#never')
      const cancel = (headers: Record<string, string>) =>
        rawRequest(served!.port, {
          method: 'POST',
          path: `/api/tasks/${id}/cancel`,
          headers: { 'x-sq-token': token, ...headers },
        })
      const evil = await cancel({ ...proxied, origin: 'https://evil.example' })
      assert.equal(evil.status, 403, evil.body)
      const ok = await cancel(proxied)
      assert.equal(ok.status, 200, ok.body)
      assert.equal((await s.get(id)).status, 'cancelled')
    })

    it('takes the public URLs from SQ_PUBLIC_URL too', async () => {
      served = await startServe(s, [], { SQ_PUBLIC_URL: PUBLIC })
      const res = await rawRequest(served.port, { path: '/api/overview', headers: { host: 'sq.example.com' } })
      assert.equal(res.status, 200, res.body)
    })

    it('cuts a huge task name in /metrics labels to 200 characters, marked', async () => {
      const huge = `tasks#${'x'.repeat(2 * 1024 * 1024)}`
      const { id } = await insertTask(s.queue.backend, newTask({ task: huge, queue: s.q }))
      const now = new Date().toISOString()
      await s.queue.backend.db
        .updateTable('sq_tasks')
        .set({ status: 'completed', attempts: 1, started: now, finished: now, duration_ms: 5 })
        .where('id', '=', id)
        .execute()
      served = await startServe(s)
      const res = await rawRequest(served.port, { path: '/metrics' })
      assert.equal(res.status, 200)
      assert.ok(res.body.length < 100_000, `/metrics is ${res.body.length} characters`)
      const label = `task="tasks#${'x'.repeat(193)}…"`
      assert.match(
        res.body,
        new RegExp(
          `^sq_runs_ended_total\\{${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')},status="completed"\\} 1$`,
          'mu',
        ),
      )
      assert.ok(res.body.includes(`sq_run_duration_seconds_count{${label}} 1`))
    })
  })
}
