import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { cleanEnv } from '../helpers/cli.js'
import { createTestDatabase, describeOn, type TestDatabase } from '../helpers/db.js'
import { linkPackage, PACKAGE_ROOT } from '../helpers/package.js'
import { sq, sqJson } from '../helpers/sq.js'
import type { BackendName } from '../../src/storage/backend.js'
import type { Task } from '../../src/types.js'

const EXAMPLES = path.join(PACKAGE_ROOT, 'examples/signup')
const APPS: Array<{ app: string; dialect: BackendName }> = [
  { app: 'pg.ts', dialect: 'postgres' },
  { app: 'kysely.ts', dialect: 'postgres' },
  { app: 'sqlite.ts', dialect: 'sqlite' },
]

/** The example's files in `dir`, as an app that depends on sq-queue, its driver and tsx. */
function installExample(dir: string): void {
  for (const file of fs.readdirSync(EXAMPLES)) fs.copyFileSync(path.join(EXAMPLES, file), path.join(dir, file))
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n')
  linkPackage(dir)
  for (const dependency of ['pg', 'kysely', 'better-sqlite3', 'tsx'])
    fs.symlinkSync(path.join(PACKAGE_ROOT, 'node_modules', dependency), path.join(dir, 'node_modules', dependency))
}

/** Starts the app and resolves with its base URL once it listens. */
function start(app: string, db: TestDatabase): Promise<{ server: ChildProcess; base: string }> {
  const server = spawn(process.execPath, ['--import', 'tsx', app], {
    cwd: db.dir,
    env: { ...cleanEnv(), SQ_DATABASE_URL: db.url, PORT: '0' },
  })
  let output = ''
  return new Promise((resolve, reject) => {
    server.stderr!.on('data', (chunk) => (output += chunk))
    server.stdout!.on('data', (chunk) => {
      output += chunk
      const base = /listening on (\S+)/.exec(output)?.[1]
      if (base) resolve({ server, base })
    })
    server.on('exit', (code) => reject(new Error(`${app} exited ${code} before it listened: ${output}`)))
  })
}

for (const { app, dialect } of APPS) {
  describeOn(dialect, `examples/signup/${app}: a signup and its welcome email in one transaction`, () => {
    let db: TestDatabase
    let server: ChildProcess | undefined
    let base: string
    const signup = (email: string, failAfterEnqueue = false) =>
      fetch(`${base}/signup`, { method: 'POST', body: JSON.stringify({ email, failAfterEnqueue }) })

    before(async () => {
      db = await createTestDatabase(dialect)
      installExample(db.dir)
      ;({ server, base } = await start(app, db))
    })
    after(async () => {
      server?.kill()
      await db?.drop()
    })

    it('a signup that throws after the enqueue leaves neither the user nor the task', async () => {
      const failed = await signup('ada@example.com', true)
      assert.equal(failed.status, 500)
      assert.match(await failed.text(), /signup failed after the enqueue/)
      assert.deepEqual(await sqJson<Task[]>(db, ['list']), [])
    })

    it('a committed signup leaves its task, and a worker sends the welcome', async () => {
      // The same email again: had the failed signup kept its user, the unique email would refuse it.
      const created = await signup('ada@example.com')
      assert.equal(created.status, 201, await created.clone().text())
      const { task } = (await created.json()) as { task: string }
      assert.deepEqual(
        (await sqJson<Task[]>(db, ['list'])).map((t) => [t.id, t.status]),
        [[task, 'queued']],
      )
      const worker = await sq(db, ['worker', '--burst'])
      assert.equal(worker.code, 0, worker.stderr)
      const done = await sqJson<Task>(db, ['show', task])
      assert.equal(done.status, 'completed')
      assert.equal(done.output, 'welcome mail sent to ada@example.com')
    })
  })
}
