import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { cleanEnv } from '../helpers/cli.js'
import { PACKAGE_ROOT, strictTsc } from '../helpers/package.js'

/**
 * The package as `npm install` gives it to an app: the tarball `npm pack` makes, installed with its
 * dependencies from the registry (the npm cache, mostly) into a directory outside this repository, so
 * nothing of the repository's node_modules (Kysely, croner) can stand in for what the package lacks.
 * better-sqlite3 is installed beside it with scripts off, as pnpm does by default: not built.
 */
const run = promisify(execFile)
/** Runs a program to its end: its exit code and output, whether it failed or not. */
const exec = (file: string, args: string[], o: { cwd: string; env?: NodeJS.ProcessEnv }) =>
  run(file, args, o).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  )
const DRIVER = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'node_modules/better-sqlite3/package.json'), 'utf8'))
  .version as string

const CJS_APP = `const { createTask, openQueue, closeQueue } = require('sq-queue')
;(async () => {
  const id = await createTask({ task: 'tasks/email.js#send', args: { to: 'a@example.com' } })
  const queue = await openQueue()
  const task = await queue.get(id)
  console.log(JSON.stringify({ same: task.id === id, status: task.status, args: task.args }))
  await queue.close()
  await closeQueue()
})().catch((e) => {
  console.error(e.name + ': ' + e.message)
  process.exitCode = e.exitCode ?? 1
})
`

/** What an app's code does with the public API, for tsc: strict, its libraries' declarations checked. */
const TYPED_USE = `
const queue = await openQueue({ db: 'sq.db' })
const id: string = await createTask({ task: 'tasks/email.js#send', args: { to: 'a' }, key: 'k', priority: 1 })
const ids: string[] = await enqueueMany([{ task: 'tasks/email.js#send', args: {} }], { queue })
const task: Task = await queue.get(id)
const status: Status = task.status
const when: string = task.created
const list: Task[] = await queue.list({ statuses: ['failed'], limit: 10 })
const tasks = defineTasks<{ 'tasks/email.js#send': (a: { to: string }) => Promise<string> }>(queue)
await tasks.createTask('tasks/email.js#send', { to: 'b' })
try { await queue.resolveId('nope') } catch (e) { if (e instanceof NotFoundError) console.log(e.exitCode) }
await queue.close()
export { ids, status, when, list }
`

describe('the packed sq-queue, installed in an app', function () {
  this.timeout(180_000)
  let dir: string
  let app: string

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-packed-'))
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: PACKAGE_ROOT,
    })
    const tarball = path.join(dir, (JSON.parse(stdout) as { filename: string }[])[0]!.filename)
    app = path.join(dir, 'app')
    fs.mkdirSync(path.join(app, 'tasks'), { recursive: true })
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }))
    fs.writeFileSync(path.join(app, 'tasks/email.js'), 'exports.send = async ({ to }) => to\n')
    await run(
      'npm',
      ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock'].concat(
        tarball,
        `better-sqlite3@${DRIVER}`,
      ),
      { cwd: app, env: cleanEnv() },
    )
  })
  after(() => fs.rmSync(dir, { recursive: true, force: true }))

  it("compiles an app's ES module and CommonJS code under strict tsc with skipLibCheck off", async () => {
    // What would have stood in for a missing import of the declarations is not there.
    for (const bundled of ['kysely', 'croner']) assert.ok(!fs.existsSync(path.join(app, 'node_modules', bundled)))
    const imports = 'createTask, enqueueMany, openQueue, defineTasks, NotFoundError, type Status, type Task'
    fs.writeFileSync(path.join(app, 'app.mts'), `import { ${imports} } from 'sq-queue'\n${TYPED_USE}`)
    fs.writeFileSync(
      path.join(app, 'app.cts'),
      `import { ${imports} } from 'sq-queue'\nasync function main() {\n${TYPED_USE.replace(/^export .*$/m, '')}}\nexport = main\n`,
    )
    assert.equal(await strictTsc(app, ['app.mts', 'app.cts']), '')
  })

  it('an unbuilt better-sqlite3 is one line saying how to build it, from the library and from sq', async () => {
    const line = `sq on SQLite needs better-sqlite3 built for Node.js ${process.version}, which it is not: npm rebuild better-sqlite3 (with pnpm: pnpm approve-builds, then pnpm rebuild better-sqlite3)`
    fs.writeFileSync(path.join(app, 'app.cjs'), CJS_APP)
    const env = { ...cleanEnv(), SQ_DATABASE_URL: 'unbuilt.db' }
    const library = await exec(process.execPath, ['app.cjs'], { cwd: app, env })
    assert.deepEqual(library, { code: 1, stdout: '', stderr: `StorageError: ${line}\n` })
    const cli = await exec(process.execPath, ['node_modules/sq-queue/bin/run.js', 'enqueue', 'tasks/email.js#send'], {
      cwd: app,
      env,
    })
    assert.deepEqual(cli, { code: 1, stdout: '', stderr: `sq: ${line}\n` })
  })

  it('once it is built, a CommonJS app requires sq-queue and an ES module app imports it, on SQLite', async () => {
    // What `npm rebuild better-sqlite3` makes, taken from this repository's build of the same version.
    const binary = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'
    fs.mkdirSync(path.dirname(path.join(app, binary)), { recursive: true })
    fs.copyFileSync(path.join(PACKAGE_ROOT, binary), path.join(app, binary))
    fs.writeFileSync(path.join(app, 'app.cjs'), CJS_APP)
    fs.writeFileSync(
      path.join(app, 'app.mjs'),
      "import { openQueue } from 'sq-queue'\nconst queue = await openQueue()\nconsole.log((await queue.list({ limit: 5 })).length)\nawait queue.close()\n",
    )
    const env = { ...cleanEnv(), SQ_DATABASE_URL: 'sq.db' }
    // As on Node before 20.19, which cannot require() an ES module.
    const required = await run(process.execPath, ['--no-experimental-require-module', 'app.cjs'], { cwd: app, env })
    assert.deepEqual(JSON.parse(required.stdout), { same: true, status: 'queued', args: { to: 'a@example.com' } })
    const imported = await run(process.execPath, ['app.mjs'], { cwd: app, env })
    assert.equal(imported.stdout, '1\n')
  })
})
