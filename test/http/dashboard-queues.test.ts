import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import type http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createStatusServer } from '../../src/http/status-server.js'
import { openQueue, type Queue, type ScheduleDef } from '../../src/index.js'
import { createTestDatabase, DIALECTS, describeOn, type TestDatabase } from '../helpers/db.js'
import { pageToken, rawRequest } from '../helpers/serve.js'

const NIGHTLY: ScheduleDef = {
  name: 'nightly',
  cron: '0 3 * * *',
  task: 'tasks#x',
  args: {},
  queue: 'default',
  priority: 0,
  timezone: null,
  catchUp: 'latest',
}

/** The dashboard's schedules section and its pause/resume of a queue, on the real queue and config. */
for (const dialect of DIALECTS) {
  describeOn(dialect, `dashboard: schedules and pausing a queue (${dialect})`, () => {
    let db: TestDatabase
    let queue: Queue
    let server: http.Server
    let base: string
    let port: number

    before(async () => {
      db = await createTestDatabase(dialect)
      fs.writeFileSync(path.join(db.dir, 'tasks.mjs'), 'export function x() {}\n')
      queue = await openQueue({ db: db.url, root: db.dir, schedules: [NIGHTLY] })
      await queue.enqueue({ task: 'tasks#x', queue: 'mail' })
      server = createStatusServer(queue, { host: '127.0.0.1', allowActions: true })
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

    it('shows the schedules of the config with their next run', async () => {
      const o = (await (await fetch(`${base}/api/overview`)).json()) as any
      assert.equal(o.schedules.length, 1)
      assert.equal(o.schedules[0].name, 'nightly')
      assert.equal(o.schedules[0].cron, '0 3 * * *')
      assert.match(o.schedules[0].next_run, /T03:00:00/)
      assert.deepEqual(o.actions, { enabled: true, pause: true })
    })

    it('POST /api/queues/Q/pause and /resume pause the real queue, with the token only', async () => {
      const token = (await pageToken(base))!
      assert.equal((await rawRequest(port, { method: 'POST', path: '/api/queues/mail/pause' })).status, 403)
      assert.equal((await rawRequest(port, { path: '/api/queues/mail/pause' })).status, 405)
      assert.deepEqual(await queue.pausedQueues(), [])
      const paused = await rawRequest(port, {
        method: 'POST',
        path: '/api/queues/mail/pause',
        headers: { 'x-sq-token': token },
      })
      assert.equal(paused.status, 200, paused.body)
      assert.equal(JSON.parse(paused.body).message, 'paused queue mail')
      assert.deepEqual(
        (await queue.pausedQueues()).map((p) => p.queue),
        ['mail'],
      )
      const o = (await (await fetch(`${base}/api/overview`)).json()) as any
      assert.equal(o.queues.find((q: any) => q.queue === 'mail').paused, true)
      const resumed = await rawRequest(port, {
        method: 'POST',
        path: '/api/queues/mail/resume',
        headers: { 'x-sq-token': token },
      })
      assert.equal(JSON.parse(resumed.body).message, 'resumed queue mail')
      assert.deepEqual(await queue.pausedQueues(), [])
    })
  })
}
