import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DIALECTS, describeOn, useTestDatabase, type TestDatabase } from '../helpers/db.js'
import {
  assertOneLineError,
  countTasks,
  enqueue,
  RECORD_FIELDS,
  sq,
  sqJson,
  sqOk,
  UUID,
  writeTaskModule,
  readTask,
} from '../helpers/sq.js'
import type { Backend } from '../../src/storage/backend.js'
import type { Task } from '../../src/types.js'

for (const dialect of DIALECTS) {
  describeOn(dialect, `sq enqueue (${dialect})`, () => {
    // A module outside the root that leaves a marker when imported, reached through a link in the root.
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-outside-'))
    after(() => fs.rmSync(outside, { recursive: true, force: true }))
    const t = useTestDatabase(dialect, {
      setup: (dir) => {
        writeTaskModule(dir)
        writeTaskModule(dir, 'jobs/report.mjs', 'export async function build() { return "built" }\n')
        writeTaskModule(
          outside,
          'evil.mjs',
          `import fs from 'node:fs'\nfs.writeFileSync(${JSON.stringify(path.join(outside, 'imported'))}, 'x')\nexport default () => 'evil'\n`,
        )
        fs.mkdirSync(path.join(dir, 'links'))
        fs.symlinkSync(
          path.relative(path.join(dir, 'links'), path.join(outside, 'evil.mjs')),
          path.join(dir, 'links/evil.mjs'),
        )
        fs.symlinkSync('report.mjs', path.join(dir, 'jobs/alias.mjs'))
        fs.writeFileSync(path.join(dir, 'shadow'), 'root:*:19000:0:99999:7:::\n')
        fs.writeFileSync(path.join(dir, 'secret.json'), '{"password": hunter2}\n')
      },
    })
    let db: TestDatabase
    let d: Backend
    before(() => ({ db, d } = t))
    const show = (id: string) => readTask(d, id)

    it('prints the new id alone on stdout and stores the task queued', async () => {
      const r = await sq(db, ['enqueue', 'tasks#hello', '--args', '{"name":"Ada","n":[1,2]}'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stderr, '')
      assert.match(r.stdout, /^[0-9a-f-]{36}\n$/)
      const id = r.stdout.trim()
      assert.match(id, UUID)
      const task = await show(id)
      assert.equal(task.task, 'tasks#hello')
      assert.equal(task.status, 'queued')
      assert.deepEqual(task.args, { name: 'Ada', n: [1, 2] })
    })

    it('takes args from @file.json, from stdin with -, and from repeated --arg key=value', async () => {
      fs.writeFileSync(path.join(db.dir, 'args.json'), '{"from":"file","deep":{"x":1}}')
      const [fromFile, fromStdin, fromPairs, merged, noArgs] = await Promise.all([
        enqueue(db, 'tasks#hello', ['--args', '@args.json']),
        sqOk(db, ['enqueue', 'tasks#hello', '--args', '-'], { input: '{"from":"stdin"}\n' }).then((s) => s.trim()),
        enqueue(db, 'tasks#hello', [
          '--arg',
          'n=3',
          '--arg',
          'word=hello',
          '--arg',
          'obj={"a":[1]}',
          '--arg',
          'flag=true',
          '--arg',
          'empty=',
          '--arg',
          'eq=a=b',
          '--arg',
          'quoted="7"',
          '--arg',
          'big=12345678901234567890',
          '--arg',
          'version=1.10',
          '--arg',
          'exp=1e3',
          '--arg',
          'price=-2.5',
        ]),
        enqueue(db, 'tasks#hello', ['--args', '{"a":1,"b":1}', '--arg', 'b=2']),
        enqueue(db, 'tasks#hello'),
      ])
      assert.deepEqual((await show(fromFile)).args, { from: 'file', deep: { x: 1 } })
      assert.deepEqual((await show(fromStdin)).args, { from: 'stdin' })
      assert.deepEqual((await show(fromPairs)).args, {
        n: 3,
        word: 'hello',
        obj: { a: [1] },
        flag: true,
        empty: '',
        eq: 'a=b',
        quoted: '7',
        // A number that would not read back as typed stays the string typed, not rounded or trimmed.
        big: '12345678901234567890',
        version: '1.10',
        exp: '1e3',
        price: -2.5,
      })
      assert.deepEqual((await show(merged)).args, { a: 1, b: 2 })
      assert.deepEqual((await show(noArgs)).args, {})
    })

    it('--json prints the record with the SPEC field names', async () => {
      const task = await sqJson<Record<string, unknown>>(db, ['enqueue', 'tasks#hello', '--arg', 'name=json'])
      assert.deepEqual(Object.keys(task).sort(), [...RECORD_FIELDS].sort())
      assert.match(task.id as string, UUID)
      assert.equal(task.task, 'tasks#hello')
      assert.deepEqual(task.args, { name: 'json' })
      assert.equal(task.status, 'queued')
      for (const field of [
        'output',
        'error',
        'log',
        'worker_pid',
        'worker',
        'started',
        'finished',
        'key',
        'progress',
      ]) {
        assert.equal(task[field], null, field)
      }
      for (const field of ['created', 'modified', 'run_at']) {
        assert.match(task[field] as string, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, field)
        assert.ok(Math.abs(Date.parse(task[field] as string) - Date.now()) < 60_000, `${field} is about now`)
      }
      assert.equal(task.attempts, 0)
      assert.equal(task.max_attempts, 1)
      assert.equal(task.priority, 0)
      assert.equal(task.queue, 'default')
    })

    it('accepts a module without #export (default), and .mjs modules in subdirectories', async () => {
      const [def, sub] = await Promise.all([enqueue(db, 'tasks'), enqueue(db, 'jobs/report#build')])
      assert.equal((await show(def)).task, 'tasks')
      assert.equal((await show(sub)).task, 'jobs/report#build')
    })

    it('--key returns the queued task of that key and adds nothing, also when enqueued at once', async () => {
      const before = await countTasks(d)
      const ids = await Promise.all([1, 2, 3, 4].map(() => enqueue(db, 'tasks#hello', ['--key', 'daily'])))
      assert.equal(new Set(ids).size, 1, `one id for one key, got ${ids.join(' ')}`)
      assert.equal(await countTasks(d), before + 1)
      assert.equal((await show(ids[0]!)).key, 'daily')
      // Once that task has ended, the key is free again.
      await sqOk(db, ['cancel', ids[0]!])
      const next = await enqueue(db, 'tasks#hello', ['--key', 'daily'])
      assert.notEqual(next, ids[0])
      assert.equal(await countTasks(d), before + 2)
    })

    it('stores --delay, --at, --priority, --queue and --max-attempts', async () => {
      const t0 = Date.now()
      const [delayed, at, tuned] = await Promise.all([
        sqJson<Task>(db, ['enqueue', 'tasks#hello', '--delay', '1h']),
        sqJson<Task>(db, ['enqueue', 'tasks#hello', '--at', '2031-02-03T04:05:06Z']),
        sqJson<Task>(db, ['enqueue', 'tasks#hello', '--priority', '7', '--queue', 'emails', '--max-attempts', '3']),
      ])
      const delayMs = Date.parse(delayed.run_at) - t0
      assert.ok(delayMs > 3590_000 && delayMs < 3610_000, `run_at is an hour from now, got ${delayed.run_at}`)
      assert.equal(at.run_at, '2031-02-03T04:05:06.000Z')
      assert.equal(tuned.priority, 7)
      assert.equal(tuned.queue, 'emails')
      assert.equal(tuned.max_attempts, 3)
      assert.ok(Math.abs(Date.parse(tuned.run_at) - Date.now()) < 60_000, 'runnable now')
    })

    it('takes compound durations: --delay 1h30m', async () => {
      const t0 = Date.now()
      const task = await sqJson<Task>(db, ['enqueue', 'tasks#hello', '--delay', '1h30m'])
      const delayMs = Date.parse(task.run_at) - t0
      assert.ok(delayMs > 5390_000 && delayMs < 5410_000, `run_at is 90 minutes from now, got ${task.run_at}`)
    })

    describe('bad input: exit 2, one line on stderr, nothing enqueued', () => {
      const cases: Array<[string, string[], RegExp, { input?: string; env?: Record<string, string> }?]> = [
        ['args that are an array', ['tasks#hello', '--args', '[1,2]'], /array/],
        ['args that are a string', ['tasks#hello', '--args', '"text"'], /string/],
        ['args that are a number', ['tasks#hello', '--args', '42'], /number/],
        ['args that are null', ['tasks#hello', '--args', 'null'], /null/],
        ['args that are invalid JSON', ['tasks#hello', '--args', '{"a":'], /not valid JSON/],
        ['an array from stdin', ['tasks#hello', '--args', '-'], /array/, { input: '[1]' }],
        ['an args file that is missing', ['tasks#hello', '--args', '@nope.json'], /nope\.json/],
        [
          'args over maxArgsSize',
          ['tasks#hello', '--args', '{"text":"0123456789012345678901234567890123456789"}'],
          /maxArgsSize|limit/,
          { env: { SQ_MAX_ARGS_SIZE: '32' } },
        ],
        ['--arg without =', ['tasks#hello', '--arg', 'novalue'], /key=value/],
        ['--arg with an empty key', ['tasks#hello', '--arg', '=1'], /key=value/],
        ['a reference with an empty module', ['#x'], /malformed/],
        ['a reference with an empty export', ['tasks#'], /malformed/],
        ['a reference with a bad export name', ['tasks#1bad'], /malformed/],
        ['a module that does not exist', ['missing/module#run'], /not found/],
        ['a reference leaving the root', ['../x#run'], /root/],
        ['an absolute reference', ['/etc/passwd#run'], /root/],
        ['a task not on the allowlist', ['tasks#fail'], /not allowed/, { env: { SQ_ALLOWED_TASKS: 'tasks#hello' } }],
        [
          'a symbolic link in the root to a module outside it',
          ['links/evil'],
          /not allowed: "links\/evil" leaves the root/,
        ],
        ['a built-in module', ['node:child_process#exec'], /not allowed: "node:child_process" is a Node\.js built-in/],
        ['a built-in module without node:', ['child_process#exec'], /built-in/],
        ['the built-in fs', ['fs#readFileSync'], /built-in/],
        [
          'an allowlisted built-in module',
          ['node:fs#rmSync'],
          /built-in/,
          { env: { SQ_ALLOWED_TASKS: 'node:fs#rmSync' } },
        ],
        [
          'a --delay without a unit',
          ['tasks#hello', '--delay', '10'],
          /--delay must be a duration like .*1h30m.*got "10"/,
        ],
        [
          'an endless args file',
          ['tasks#hello', '--args', '@/dev/zero'],
          /--args from \/dev\/zero is over the limit of 1048576 bytes/,
        ],
        [
          'args from stdin over maxArgsSize',
          ['tasks#hello', '--args', '-'],
          /stdin is over the limit of 32 bytes/,
          { input: '{"text":"0123456789012345678901234567890123456789"}', env: { SQ_MAX_ARGS_SIZE: '32' } },
        ],
        ['an args file that is not JSON', ['tasks#hello', '--args', '@shadow'], /--args from shadow is not valid JSON/],
        [
          'an args file with a bad token',
          ['tasks#hello', '--args', '@secret.json'],
          /--args from secret\.json is not valid JSON/,
        ],
        ['an unknown flag', ['tasks#hello', '--bogus'], /bogus/],
        ['a missing task argument', [], /task|arg/i],
        ['a bad --delay', ['tasks#hello', '--delay', 'soon'], /--delay/],
        ['a negative --delay', ['tasks#hello', '--delay', '-5m'], /--delay/],
        ['a bad --at', ['tasks#hello', '--at', 'tomorrowish'], /--at/],
        [
          'both --delay and --at',
          ['tasks#hello', '--delay', '1m', '--at', '2031-01-01T00:00:00Z'],
          /--at.*--delay|--delay.*--at/,
        ],
        ['a non-integer --priority', ['tasks#hello', '--priority', 'high'], /priority/],
        ['--max-attempts 0', ['tasks#hello', '--max-attempts', '0'], /attempts/],
        ['a bad queue name', ['tasks#hello', '--queue', 'a b'], /queue/],
      ]

      it('refuses every one of them', async function () {
        this.timeout(60_000)
        const before = await countTasks(d)
        const results = await Promise.all(
          cases.map(([, args, , o]) => sq(db, ['enqueue', ...args], { input: o?.input, env: o?.env })),
        )
        results.forEach((r, i) => {
          const [what, , pattern] = cases[i]!
          try {
            assertOneLineError(r, 2, pattern)
            assert.equal(r.stdout, '', 'nothing on stdout')
            assert.doesNotMatch(r.stderr, /root:|hunter2|password/, 'the content of an args file is not echoed')
          } catch (error) {
            ;(error as Error).message = `${what}: ${(error as Error).message}`
            throw error
          }
        })
        assert.equal(await countTasks(d), before, 'nothing was enqueued')
        assert.equal(
          fs.existsSync(path.join(outside, 'imported')),
          false,
          'the module outside the root was never imported',
        )
      })

      it('accepts args exactly at maxArgsSize and an allowlisted task', async () => {
        const args = '{"text":"01234567890123456789"}' // 31 bytes
        const r = await Promise.all([
          sq(db, ['enqueue', 'tasks#hello', '--args', args], { env: { SQ_MAX_ARGS_SIZE: '31' } }),
          sq(db, ['enqueue', 'tasks#hello'], { env: { SQ_ALLOWED_TASKS: 'tasks#hello, jobs/report#build' } }),
          sq(db, ['enqueue', 'jobs/report#anything'], { env: { SQ_ALLOWED_TASKS: 'jobs/report#*' } }),
          // A link that stays in the root, and one that leaves it but is allowlisted.
          sq(db, ['enqueue', 'jobs/alias#build']),
          sq(db, ['enqueue', 'links/evil'], { env: { SQ_ALLOWED_TASKS: 'links/evil' } }),
        ])
        for (const x of r) assert.equal(x.code, 0, x.stderr)
        assert.equal(fs.existsSync(path.join(outside, 'imported')), false, 'enqueue imports nothing')
      })
    })
  })
}
