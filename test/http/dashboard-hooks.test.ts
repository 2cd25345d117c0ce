import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import type http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createStatusServer } from '../../src/http/status-server.js'
import { openQueue, type Queue } from '../../src/index.js'
import { createTestDatabase, DIALECTS, type TestDatabase } from '../helpers/db.js'
import { pageToken, rawRequest } from '../helpers/serve.js'

/**
 * The seam where schedules and queue pausing plug into the dashboard (src/http/hooks.ts): what the
 * server does with them, so wiring them in commands/serve.ts is all that is left to do.
 */
for (const dialect of DIALECTS) {
  describe(`dashboard hooks: schedules and pause (${dialect})`, () => {
    let db: TestDatabase
    let queue: Queue
    let server: http.Server
    let base: string
    let port: number
    const calls: string[] = []

    before(async () => {
      db = await createTestDatabase(dialect)
      fs.writeFileSync(path.join(db.dir, 'tasks.mjs'), 'export function x() {}\n')
      queue = await openQueue({ db: db.url, root: db.dir })
      await queue.enqueue({ task: 'tasks#x', queue: 'mail' })
      server = createStatusServer(queue, {
        host: '127.0.0.1',
        allowActions: true,
        hooks: {
          schedules: async () => [{ name: 'nightly', cron: '0 3 * * *', task: 'tasks#x', next_run: '2026-11-30T03:00:00.000Z' }],
          pausedQueues: async () => ['mail'],
          pauseQueue: async (q) => (calls.push(`pause ${q}`), `paused ${q}`),
          resumeQueue: async (q) => (calls.push(`resume ${q}`), `resumed ${q}`),
        },
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      port = (server.address() as AddressInfo).port
      base = `http://127.0.0.1:${port}`
    })
    after(async () => {
      server?.closeAllConnections()
      if (server) await new Promise((resolve) => server.close(resolve))
      await queue?.close()
      await db?.drop()
    })

    it('shows the schedules and which queues are paused, and offers pause', async () => {
      const o = (await (await fetch(`${base}/api/overview`)).json()) as any
      assert.deepEqual(o.schedules, [{ name: 'nightly', cron: '0 3 * * *', task: 'tasks#x', next_run: '2026-11-30T03:00:00.000Z' }])
      assert.deepEqual(o.actions, { enabled: true, pause: true })
      assert.equal(o.queues.find((q: any) => q.queue === 'mail').paused, true)
    })

    it('POST /api/queues/Q/pause and /resume call the hooks, with the token only', async () => {
      const token = (await pageToken(base))!
      assert.equal((await rawRequest(port, { method: 'POST', path: '/api/queues/mail/pause' })).status, 403)
      assert.equal((await rawRequest(port, { path: '/api/queues/mail/pause' })).status, 405)
      assert.deepEqual(calls, [])
      const paused = await rawRequest(port, { method: 'POST', path: '/api/queues/mail/pause', headers: { 'x-sq-token': token } })
      assert.deepEqual(JSON.parse(paused.body), { queue: 'mail', message: 'paused mail' })
      await rawRequest(port, { method: 'POST', path: '/api/queues/mail/resume', headers: { 'x-sq-token': token } })
      assert.deepEqual(calls, ['pause mail', 'resume mail'])
    })
  })
}
