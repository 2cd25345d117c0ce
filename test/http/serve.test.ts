import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { openQueue, type Queue, type Task } from '../../src/index.js'
import { cleanEnv, SQ_BIN } from '../helpers/cli.js'
import { createTestDatabase, DIALECTS, describeOn, type TestDatabase } from '../helpers/db.js'

/** GET `path` from 127.0.0.1:`port` (or `address`) with exactly this Host header (fetch sets its own). */
function getWithHost(
  port: number,
  path: string,
  host: string | undefined,
  address = '127.0.0.1',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: address, port, path, setHost: false, headers: host === undefined ? {} : { host } },
      (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (d: string) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode!, body }))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

/** Starts `sq serve --port 0 …args` and returns it with the base URL it printed. */
async function startServe(
  db: TestDatabase,
  args: string[] = [],
): Promise<{ server: ChildProcess; base: string; port: number }> {
  const server = spawn(process.execPath, [SQ_BIN, 'serve', '--port', '0', '--db', db.url, ...args], {
    cwd: db.dir,
    env: cleanEnv(),
  })
  const base = await new Promise<string>((resolve, reject) => {
    let out = ''
    server.stdout!.on('data', (d) => {
      out += d
      const m = /(http:\/\/[^/]+:\d+)\//.exec(out)
      if (m) resolve(m[1]!)
    })
    server.on('exit', (code) => reject(new Error(`sq serve exited ${code}`)))
  })
  return { server, base, port: Number(new URL(base).port) }
}

for (const dialect of DIALECTS) {
  describeOn(dialect, `sq serve (${dialect})`, () => {
    let db: TestDatabase
    let queue: Queue
    let server: ChildProcess
    let base: string
    let port: number
    let id: string

    before(async () => {
      db = await createTestDatabase(dialect)
      fs.writeFileSync(path.join(db.dir, 'tasks.mjs'), 'export function x() {}\n')
      queue = await openQueue({ db: db.url, root: db.dir })
      id = (await queue.enqueue({ task: 'tasks#x', args: { note: '<script>alert(1)</script>' } })).id
      ;({ server, base, port } = await startServe(db))
    })
    after(async () => {
      server.kill('SIGTERM')
      await queue.close()
      await db.drop()
    })

    it('returns the task record as JSON with type=json, by id or unique prefix', async () => {
      const res = await fetch(`${base}/task?task_id=${id.slice(0, 8)}&type=json`)
      assert.equal(res.status, 200)
      const body = (await res.json()) as Task
      assert.equal(body.id, id)
      assert.equal(body.status, 'queued')
      assert.deepEqual(body.args, { note: '<script>alert(1)</script>' })
    })

    it('serves an HTML status page with task data escaped, refreshing while the task is live', async () => {
      const res = await fetch(`${base}/task?task_id=${id}`)
      assert.match(res.headers.get('content-type') ?? '', /text\/html/)
      const html = await res.text()
      assert.ok(!html.includes('<script>alert(1)</script>'))
      assert.match(html, /&#60;script&#62;/)
      assert.match(html, /http-equiv="refresh"/)
    })

    it('answers 404 for an unknown id, 400 for a malformed one, 405 for writes', async () => {
      assert.equal((await fetch(`${base}/task?task_id=00000000-0000-4000-8000-000000000000&type=json`)).status, 404)
      assert.equal((await fetch(`${base}/task?task_id=abc&type=json`)).status, 400)
      assert.equal((await fetch(`${base}/task`, { method: 'POST' })).status, 405)
    })

    it('bound to 127.0.0.1, answers only Host 127.0.0.1, localhost or [::1] with its port (DNS rebinding)', async () => {
      const path = `/task?task_id=${id}&type=json`
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LocalHost:${port}`, `[::1]:${port}`]) {
        const res = await getWithHost(port, path, host)
        assert.equal(res.status, 200, `Host: ${host}`)
        assert.equal((JSON.parse(res.body) as Task).id, id)
      }
      const refused = [
        `evil.example:${port}`,
        'evil.example',
        `127.0.0.1:${port + 1}`,
        '127.0.0.1',
        `evil@127.0.0.1:${port}`,
        '',
      ]
      for (const host of refused) {
        const res = await getWithHost(port, path, host)
        assert.equal(res.status, 421, `Host: ${host}`)
        assert.match(
          res.body,
          new RegExp(
            `^sq serve answers only for Host 127\\.0\\.0\\.1:${port}, localhost:${port}, \\[::1\\]:${port}\\n$`,
          ),
        )
        assert.ok(!res.body.includes(id), 'no task data')
      }
      // Without a Host header, Node's HTTP server refuses an HTTP/1.1 request itself.
      const none = await getWithHost(port, path, undefined)
      assert.equal(none.status, 400)
      assert.ok(!none.body.includes(id), 'no task data')
    })

    it('bound to another address, answers only Host naming that address', async () => {
      const other = await startServe(db, ['--host', '127.0.0.2'])
      try {
        const path = `/task?task_id=${id}&type=json`
        assert.equal((await getWithHost(other.port, path, `127.0.0.2:${other.port}`, '127.0.0.2')).status, 200)
        for (const host of [`localhost:${other.port}`, `127.0.0.1:${other.port}`, `evil.example:${other.port}`]) {
          assert.equal((await getWithHost(other.port, path, host, '127.0.0.2')).status, 421, `Host: ${host}`)
        }
      } finally {
        const exited = new Promise((resolve) => other.server.once('exit', resolve))
        other.server.kill('SIGTERM')
        await exited
      }
    })
  })
}
