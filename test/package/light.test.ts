import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { linkPackage, strictTsc } from '../helpers/package.js'
import { cleanEnv } from '../helpers/cli.js'
import { writeTaskModule } from '../helpers/sq.js'

/** The package as an app sees it: what `npm pack` ships, what `import('sq-queue')` loads, its types. */
const run = promisify(execFile)
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const MODULE_LOG = path.join(ROOT, 'test/helpers/module-log.mjs')
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<
  string,
  Record<string, string>
>

describe('the sq-queue package', function () {
  this.timeout(120_000)
  let app: string

  before(() => {
    // An app that depends on sq-queue: node_modules/sq-queue is this repository (built by npm test).
    app = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-app-'))
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', type: 'module', private: true }))
    linkPackage(app)
    writeTaskModule(
      app,
      'tasks/email.ts',
      'export async function send({ to, cc = [] }: { to: string; cc?: string[] }) { return to + cc.length }\nexport default function () {}\n',
    )
  })
  after(() => fs.rmSync(app, { recursive: true, force: true }))

  it('ships the bundle, its CommonJS build, declarations and a LICENSE; no source maps, unused build output, or bundled library as a dependency', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT })
    const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path)
    const library = ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts'].map((f) => `dist/bundle/${f}`)
    for (const shipped of ['LICENSE', 'bin/run.js', ...library]) assert.ok(files.includes(shipped), shipped)
    assert.deepEqual(
      files.filter((f) => f.endsWith('.map') || /^dist\/(src|commands|ui)\//.test(f)),
      [],
    )
    for (const f of files.filter((f) => f.endsWith('.js'))) {
      assert.doesNotMatch(fs.readFileSync(path.join(ROOT, f), 'utf8'), /sourceMappingURL/, f)
    }
    // What the bundle holds is not also a dependency; the drivers are optional peers.
    for (const bundled of ['kysely', 'pg-connection-string', 'cli-table3'])
      assert.equal(PKG.dependencies![bundled], undefined, bundled)
    assert.deepEqual(Object.keys(PKG.peerDependencies!).sort(), ['better-sqlite3', 'pg'])
    assert.ok(PKG.scripts!.prepack!.includes('build'))
  })

  it("import('sq-queue') and createTask load neither Ink, React, oclif, tsx nor pg on SQLite", async () => {
    const log = path.join(app, 'modules.txt')
    fs.writeFileSync(
      path.join(app, 'enqueue.mjs'),
      "import { createTask, closeQueue } from 'sq-queue'\nconsole.log(await createTask({ task: 'tasks/email#send', args: { to: 'a' } }))\nawait closeQueue()\n",
    )
    const { stdout } = await run(process.execPath, ['--import', MODULE_LOG, 'enqueue.mjs'], {
      cwd: app,
      env: { ...cleanEnv(), SQ_TEST_MODULE_LOG: log, SQ_DATABASE_URL: path.join(app, 'sq.db') },
    })
    assert.match(stdout, /^[0-9a-f-]{36}\n$/)
    const loaded = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean)
    assert.ok(
      loaded.some((u) => u.includes('better-sqlite3')),
      'the SQLite driver was loaded',
    )
    const unwanted = loaded.filter((u) => /\/node_modules\/(ink|react|@oclif|tsx|pg)\//.test(u))
    assert.deepEqual(unwanted, [])
  })

  it('a missing driver is an error that names the package to install', async () => {
    // The app's own node_modules has no better-sqlite3: a copy of the bundle resolves from there.
    const copy = path.join(app, 'node_modules/sq-copy')
    fs.mkdirSync(copy, { recursive: true })
    fs.cpSync(path.join(ROOT, 'dist/bundle'), path.join(copy, 'dist/bundle'), { recursive: true })
    fs.writeFileSync(
      path.join(copy, 'package.json'),
      JSON.stringify({ name: 'sq-copy', type: 'module', main: 'dist/bundle/index.js' }),
    )
    fs.writeFileSync(
      path.join(app, 'nodriver.mjs'),
      "import { createTask } from 'sq-copy'\ntry { await createTask({ task: 'tasks/email#send', args: { to: 'a' } }) } catch (e) { console.log(e.name + ': ' + e.message) }\n",
    )
    const { stdout } = await run(process.execPath, ['nodriver.mjs'], {
      cwd: app,
      env: { ...cleanEnv(), SQ_DATABASE_URL: path.join(app, 'x.db') },
    })
    assert.equal(
      stdout.trim(),
      'StorageError: sq on SQLite needs the better-sqlite3 package, which is not installed: npm install better-sqlite3',
    )
  })

  it('types a task map: tsc --noEmit accepts right args and refuses wrong ones', async () => {
    fs.writeFileSync(
      path.join(app, 'app.ts'),
      [
        "import { defineTasks, createTask, type TasksOf } from 'sq-queue'",
        "import type * as email from './tasks/email.ts'",
        "const tasks = defineTasks<TasksOf<typeof email, 'tasks/email'>>()",
        "await tasks.createTask('tasks/email#send', { to: 'a@example.com' })",
        "await tasks.createTask('tasks/email#send', { to: 'a', cc: ['b'] }, { priority: 1, key: 'k' })",
        "await tasks.enqueueMany('tasks/email#send', [{ to: 'a' }, { to: 'b' }])",
        "await tasks.createTask('tasks/email', {})",
        '// @ts-expect-error: to must be a string',
        "await tasks.createTask('tasks/email#send', { to: 42 })",
        '// @ts-expect-error: to is required',
        "await tasks.createTask('tasks/email#send', {})",
        '// @ts-expect-error: no such task',
        "await tasks.createTask('tasks/email#sned', { to: 'a' })",
        "const id: string = await createTask({ task: 'anything#goes', args: { free: true } })",
        'export { id }',
      ].join('\n'),
    )
    const compile = () => strictTsc(app, ['app.ts'], { allowImportingTsExtensions: true })
    assert.equal(await compile(), '', 'right args compile, and each wrong one is an error')
    fs.appendFileSync(path.join(app, 'app.ts'), "\nawait tasks.createTask('tasks/email#send', { to: 1 })\n")
    const bad = await compile()
    assert.match(bad, /app\.ts\(\d+,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/)
  })
})
