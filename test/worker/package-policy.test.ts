import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { insert } from '../helpers/sq.js'
import { workerSuite, type WorkerSuite } from '../helpers/worker.js'
import { TASKS } from './fixtures.js'

/** sq's own checkout: its node_modules hold esbuild (through tsx), as every project with sq installed does. */
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** A package whose import leaves a marker beside it, and whose `run` says where it ran from. */
function markerPackage(name: string): Record<string, string> {
  return {
    'package.json': JSON.stringify({ name, version: '1.0.0', main: 'index.js' }),
    'index.js': `
const fs = require('node:fs')
const path = require('node:path')
fs.writeFileSync(path.join(__dirname, 'imported'), 'imported')
exports.run = () => 'ran ${name}'
`,
  }
}

/**
 * The layout, in the test's dir: `app/` is the root; `node_modules/outer` sits in the folder above it
 * (found by Node's lookup through parent folders); `app/node_modules/linked` is a symbolic link to a
 * package outside the root; `app/node_modules/inner` is an ordinary installed package.
 */
function layout(): Record<string, string> {
  const files: Record<string, string> = {
    'app/tasks.mjs': TASKS,
    'app/plain.cjs': "module.exports = { run: () => 'plain' }\n",
  }
  for (const [where, name] of [
    ['node_modules/outer', 'outer'],
    ['elsewhere/linked', 'linked'],
    ['app/node_modules/inner', 'inner'],
  ] as const) {
    for (const [file, text] of Object.entries(markerPackage(name))) files[path.join(where, file)] = text
  }
  return files
}

const imported = (s: WorkerSuite, pkg: string) => fs.existsSync(path.join(s.db.dir, pkg, 'imported'))

/**
 * Package references (SPEC §2, §7): without an allowlist only the project's own files under the root
 * run; a package runs only when the allowlist names it, checked at enqueue and again by the worker for
 * a row written straight into the database. `mod#*` admits a module's own exports only.
 */
for (const dialect of DIALECTS) {
  describeOn(dialect, `package references and the allowlist (${dialect})`, function () {
    this.timeout(90_000)
    const s = workerSuite(dialect, layout())
    let app: string
    before(() => {
      app = path.join(s.db.dir, 'app')
      fs.symlinkSync(path.join(s.db.dir, 'elsewhere', 'linked'), path.join(app, 'node_modules', 'linked'))
    })
    afterEach(() => {
      for (const pkg of ['node_modules/outer', 'elsewhere/linked', 'app/node_modules/inner'])
        fs.rmSync(path.join(s.db.dir, pkg, 'imported'), { force: true })
    })

    /** `sq enqueue` in the root, to its end. */
    async function enqueue(task: string, env: Record<string, string> = {}, root = app) {
      const p = s.sq(['enqueue', task, '--queue', s.q, '--root', root], env)
      await p.ended()
      return p
    }

    it('refuses package references at enqueue without an allowlist: parent folder, symbolic link, NODE_PATH, in the root', async () => {
      const outfile = path.join(s.db.dir, 'pwn.mjs')
      const cases: Array<[string, Record<string, string>, string, RegExp]> = [
        [
          'outer#run',
          {},
          app,
          /^sq: task not allowed: "outer#run" is a package from outside the root \(.*node_modules\/outer/,
        ],
        [
          'linked#run',
          {},
          app,
          /^sq: task not allowed: "linked#run" is a package from outside the root \(.*elsewhere\/linked/,
        ],
        [
          'inner#run',
          {},
          app,
          /^sq: task not allowed: "inner#run" is a package; without an allowlist only files under the root run/,
        ],
        ['node_modules/inner/index#run', {}, app, /^sq: task not allowed: .* is a file of an installed package/],
        // sq's own install brings esbuild: from a root that has it, and through NODE_PATH from one that does not.
        ['esbuild#buildSync', {}, REPO, /^sq: task not allowed: "esbuild#buildSync" is a package;/],
        [
          'esbuild#buildSync',
          { NODE_PATH: path.join(REPO, 'node_modules') },
          app,
          /^sq: task not allowed: "esbuild#buildSync" is a package from outside the root/,
        ],
      ]
      for (const [task, env, root, error] of cases) {
        const p = await enqueue(task, env, root)
        assert.equal(p.result?.code, 2, `${task}: ${p.output}`)
        assert.match(p.stderr, error, task)
        assert.equal(p.stderr.trim().split('\n').length, 1, `one line: ${p.stderr}`)
        assert.equal(p.stdout, '')
      }
      assert.deepEqual(
        (await s.queue.list({ limit: 100 })).filter((t) => t.queue === s.q),
        [],
        'nothing was enqueued',
      )
      for (const pkg of ['node_modules/outer', 'elsewhere/linked', 'app/node_modules/inner'])
        assert.equal(imported(s, pkg), false, `${pkg} was never imported`)
      assert.equal(fs.existsSync(outfile), false)
    })

    it('fails a package row written straight into the database, and the worker lives on and runs the rest', async () => {
      const outfile = path.join(s.db.dir, s.q, 'pwn.mjs')
      const rows = {
        outer: await insert(s.queue.backend, { task: 'outer#run', queue: s.q }),
        linked: await insert(s.queue.backend, { task: 'linked#run', queue: s.q }),
        inner: await insert(s.queue.backend, { task: 'inner#run', queue: s.q }),
        esbuild: await insert(s.queue.backend, {
          task: 'esbuild#buildSync',
          queue: s.q,
          argsJson: JSON.stringify({ stdin: { contents: 'x' }, outfile, banner: { js: 'pwned' }, write: true }),
        }),
      }
      const ok = await insert(s.queue.backend, { task: 'tasks#text', queue: s.q })
      const worker = s.worker(['--root', app], { NODE_PATH: path.join(REPO, 'node_modules') })
      for (const [name, id] of Object.entries(rows)) {
        const t = await s.waitForStatus(id)
        assert.equal(t.status, 'failed', name)
        assert.match(t.error!, /^task not allowed: .* is a package/, name)
      }
      assert.equal((await s.waitForStatus(ok)).status, 'completed')
      // Still alive: a task written after the refusals runs.
      const inApp = await insert(s.queue.backend, { task: 'tasks#json', queue: s.q })
      assert.equal((await s.waitForStatus(inApp)).status, 'completed')
      worker.signal('SIGTERM')
      assert.equal((await worker.ended()).code, 0, worker.output)
      assert.equal(fs.existsSync(outfile), false, 'esbuild never wrote its file')
      for (const pkg of ['node_modules/outer', 'elsewhere/linked', 'app/node_modules/inner'])
        assert.equal(imported(s, pkg), false, `${pkg} was never imported`)
    })

    it('runs a package reference the allowlist names, enqueued and written directly', async () => {
      const env = { SQ_ALLOWED_TASKS: 'inner#run,linked#*,outer#run,tasks#text' }
      const p = await enqueue('inner#run', env)
      assert.equal(p.result?.code, 0, p.output)
      const enqueued = p.stdout.trim()
      const linked = await insert(s.queue.backend, { task: 'linked#run', queue: s.q })
      const outer = await insert(s.queue.backend, { task: 'outer#run', queue: s.q })
      await s.burst(['--root', app], env)
      for (const [id, output] of [
        [enqueued, 'ran inner'],
        [linked, 'ran linked'],
        [outer, 'ran outer'],
      ] as const) {
        const t = await s.get(id)
        assert.equal(t.status, 'completed', t.error ?? '')
        assert.equal(t.output, output)
      }
    })

    it("mod#* admits only the module's own exports, not constructor, __proto__ or toString", async () => {
      const env = { SQ_ALLOWED_TASKS: 'plain#*,tasks#*' }
      for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
        const p = await enqueue(`plain#${name}`, env)
        assert.equal(p.result?.code, 2, `${name}: ${p.output}`)
        assert.match(p.stderr, new RegExp(`^sq: task not allowed: plain#${name} is not on the allowlist`))
      }
      // Written directly: refused before anything is imported. An exact entry admits the name, and the
      // loader still finds no such export (module.exports inherits it; it is not the module's own).
      const wildcard = await insert(s.queue.backend, { task: 'plain#constructor', queue: s.q, argsJson: '{"a":1}' })
      const exact = await insert(s.queue.backend, { task: 'plain#valueOf', queue: s.q })
      const own = await insert(s.queue.backend, { task: 'plain#run', queue: s.q })
      await s.burst(['--root', app], { SQ_ALLOWED_TASKS: 'plain#*,plain#valueOf' }, { exit: 1 })
      const [w, e, o] = await Promise.all([s.get(wildcard), s.get(exact), s.get(own)])
      assert.equal(w.status, 'failed')
      assert.match(w.error!, /^task not allowed: plain#constructor is not on the allowlist/)
      assert.equal(e.status, 'failed')
      assert.match(e.error!, /^Error: Task module plain has no export "valueOf"/)
      assert.equal(o.status, 'completed', o.error ?? '')
      assert.equal(o.output, 'plain')
    })

    it('an empty allowlist allows nothing, from SQ_ALLOWED_TASKS or the config file alike', async () => {
      const p = await enqueue('tasks#text', { SQ_ALLOWED_TASKS: '' })
      assert.equal(p.result?.code, 2, p.output)
      assert.match(p.stderr, /^sq: task not allowed: tasks#text is not on the allowlist/)
      const configured = path.join(s.db.dir, s.q, 'configured')
      fs.mkdirSync(configured)
      fs.writeFileSync(path.join(configured, 'tasks.mjs'), TASKS)
      fs.writeFileSync(path.join(configured, 'sq.config.json'), JSON.stringify({ allowedTasks: [] }))
      const c = await enqueue('tasks#text', {}, configured)
      assert.equal(c.result?.code, 2, c.output)
      assert.match(c.stderr, /^sq: task not allowed: tasks#text is not on the allowlist/)
      // The worker too, for a row written directly.
      const id = await insert(s.queue.backend, { task: 'tasks#text', queue: s.q })
      await s.burst(['--root', app], { SQ_ALLOWED_TASKS: '' }, { exit: 1 })
      const t = await s.get(id)
      assert.equal(t.status, 'failed')
      assert.match(t.error!, /^task not allowed: tasks#text is not on the allowlist/)
    })
  })
}
