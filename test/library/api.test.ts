import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { createTestDatabase, DIALECTS, describeOn, type TestDatabase } from '../helpers/db.js'
import { cleanEnv } from '../helpers/cli.js'
import { linkPackage } from '../helpers/package.js'
import { UUID, writeTaskModule } from '../helpers/sq.js'
import { createTask, openQueue, UsageError, TaskNotAllowedError, type Queue } from '../../src/index.js'

for (const dialect of DIALECTS) {
  describeOn(dialect, `library API (${dialect})`, () => {
    let db: TestDatabase
    let queue: Queue

    before(async () => {
      db = await createTestDatabase(dialect)
      writeTaskModule(db.dir)
      queue = await openQueue({ db: db.url, root: db.dir })
    })
    after(async () => {
      await queue?.close()
      await db?.drop()
    })

    it('createTask returns the UUID of a queued task with those args', async () => {
      const id = await createTask({ task: 'tasks#hello', args: { to: 'a@example.com', n: [1, 2] } }, queue)
      assert.match(id, UUID)
      const task = await queue.get(id)
      assert.equal(task.status, 'queued')
      assert.equal(task.task, 'tasks#hello')
      assert.deepEqual(task.args, { to: 'a@example.com', n: [1, 2] })
      assert.equal((await queue.get(id.slice(0, 8))).id, id)
    })

    it('createTask throws a TypeError for args that are not a plain object, and enqueues nothing', async () => {
      class Point {
        constructor(readonly x = 1) {}
      }
      const before = (await queue.list({ limit: 1000 })).length
      for (const args of [[1, 2], null, 'text', 42, new Point(), new Date(), new Map()]) {
        await assert.rejects(createTask({ task: 'tasks#hello', args }, queue), TypeError, `args ${String(args)}`)
      }
      await assert.rejects(createTask({ task: 42 as never }, queue), TypeError)
      assert.equal((await queue.list({ limit: 1000 })).length, before)
    })

    it('createTask refuses bad references with sq errors', async () => {
      await assert.rejects(createTask({ task: '#x' }, queue), UsageError)
      await assert.rejects(createTask({ task: 'nope#x' }, queue), /not found/)
      await assert.rejects(createTask({ task: '../x#y' }, queue), TaskNotAllowedError)
      const strict = await openQueue({ db: db.url, root: db.dir, allowedTasks: ['tasks#hello'] })
      try {
        await assert.rejects(createTask({ task: 'tasks#fail' }, strict), TaskNotAllowedError)
        assert.match(await createTask({ task: 'tasks#hello' }, strict), UUID)
      } finally {
        await strict.close()
      }
    })

    it('a script using createTask and closeQueue exits on its own', async function () {
      this.timeout(60_000)
      const script = path.join(db.dir, 'script.mjs')
      // The script's project depends on sq-queue, as a user's does.
      linkPackage(db.dir)
      fs.writeFileSync(
        script,
        `import { createTask, closeQueue } from 'sq-queue'
const id = await createTask({ task: 'tasks#hello', args: { name: 'script' } })
console.log(id)
await closeQueue()
`,
      )
      const child = spawn(process.execPath, [script], { cwd: db.dir, env: { ...cleanEnv(), SQ_DATABASE_URL: db.url } })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (c) => (stdout += c))
      child.stderr.on('data', (c) => (stderr += c))
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
      const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
        child.on('close', (c, s) => resolve([c, s])),
      )
      clearTimeout(timer)
      assert.equal(signal, null, 'the script exited by itself (was not killed)')
      assert.equal(code, 0, stderr)
      const id = stdout.trim()
      assert.match(id, UUID)
      assert.deepEqual((await queue.get(id)).args, { name: 'script' })
    })
  })
}
