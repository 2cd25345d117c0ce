import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { openQueue, type Queue } from '../../src/index.js'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { linkPackage } from '../helpers/package.js'
import { SqProcess, workerSuite } from '../helpers/worker.js'

const TASKS = `
import { createTask } from 'sq-queue'
/** Enqueues a follow-up and returns its id. */
export async function chain({ queue }) { return createTask({ task: 'tasks#leaf', args: { from: 'task' }, queue }) }
export function leaf({ from }) { return 'follow-up enqueued by the ' + from }
`

const HOOKS = `
import { createTask } from 'sq-queue'
export async function onSuccess(task) {
  if (task.task === 'tasks#chain') await createTask({ task: 'tasks#leaf', args: { from: 'hook' }, queue: task.args.queue })
}
`

/**
 * The seed's chaining: a task (or a hook) that calls createTask enqueues into its worker's database,
 * under its root — however the worker was told them (here by flags, from another directory, with a
 * relative SQLite path that means another file from the root).
 */
for (const dialect of DIALECTS) {
  describeOn(dialect, `a task that enqueues a follow-up (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, { 'app/tasks.mjs': TASKS, 'app/hooks.mjs': HOOKS })
    let elsewhere: string
    let app: Queue
    before(async () => {
      // The project depends on sq-queue, as a user's does.
      linkPackage(s.db.dir)
      elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-cwd-'))
      app = await openQueue({ db: s.db.url, root: path.join(s.db.dir, 'app') })
    })
    after(async () => {
      await app.close()
      fs.rmSync(elsewhere, { recursive: true, force: true })
    })

    it('writes into the database and root of `sq worker --db X --root R`, from a task and from a hook', async () => {
      const root = path.join(s.db.dir, 'app')
      const db = dialect === 'sqlite' ? path.relative(elsewhere, s.db.url) : s.db.url
      const id = (await app.enqueue({ task: 'tasks#chain', args: { queue: s.q }, queue: s.q })).id
      // No SQ_DATABASE_URL or SQ_ROOT in its environment: only the flags say where.
      const worker = new SqProcess(['worker', '--burst', '--db', db, '--root', root, '--queue', s.q], {
        cwd: elsewhere,
        env: { SQ_HOOKS: 'hooks' },
      })
      assert.deepEqual(await worker.ended(30_000), { code: 0, signal: null }, worker.output)

      const chain = await s.get(id)
      assert.equal(chain.status, 'completed', chain.error ?? '')
      const fromTask = await s.get(chain.output!)
      assert.equal(fromTask.status, 'completed', fromTask.error ?? '')
      assert.equal(fromTask.output, 'follow-up enqueued by the task')
      const leaves = await s.queue.list({ taskPattern: 'tasks#leaf', limit: 10 })
      assert.deepEqual(leaves.map((t) => t.output).sort(), [
        'follow-up enqueued by the hook',
        'follow-up enqueued by the task',
      ])
      for (const dir of [root, elsewhere])
        assert.deepEqual(
          fs.readdirSync(dir).filter((f) => f.endsWith('.db')),
          [],
          `no database in ${dir}`,
        )
    })
  })
}
