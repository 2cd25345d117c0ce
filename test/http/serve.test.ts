import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { openQueue, type Queue, type Task } from '../../src/index.js'
import { cleanEnv, SQ_BIN } from '../helpers/cli.js'
import { createTestDatabase, DIALECTS, type TestDatabase } from '../helpers/db.js'

for (const dialect of DIALECTS) {
  describe(`sq serve (${dialect})`, () => {
    let db: TestDatabase
    let queue: Queue
    let server: ChildProcess
    let base: string
    let id: string

    before(async () => {
      db = await createTestDatabase(dialect)
      fs.writeFileSync(path.join(db.dir, 'tasks.mjs'), 'export function x() {}\n')
      queue = await openQueue({ db: db.url, root: db.dir })
      id = (await queue.enqueue({ task: 'tasks#x', args: { note: '<script>alert(1)</script>' } })).id
      server = spawn(process.execPath, [SQ_BIN, 'serve', '--port', '0', '--db', db.url], { cwd: db.dir, env: cleanEnv() })
      base = await new Promise((resolve, reject) => {
        let out = ''
        server.stdout!.on('data', (d) => {
          out += d
          const m = /http:\/\/(127\.0\.0\.1:\d+)\//.exec(out)
          if (m) resolve(`http://${m[1]}`)
        })
        server.on('exit', (code) => reject(new Error(`sq serve exited ${code}`)))
      })
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
  })
}
