import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Task } from '../../src/index.js'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { workerSuite, type SqProcess } from '../helpers/worker.js'
import { TASKS } from './fixtures.js'

/**
 * What a task function returns, yields or throws, as the record stores it (SPEC §2, §4, §10). One
 * `sq worker --burst` runs every task of this file; each test then reads the records it cares about.
 */
for (const dialect of DIALECTS) {
  describeOn(dialect, `worker results (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, {
      'tasks.mjs': TASKS,
      'doomed.mjs': 'export default () => "never"\n',
      'ts/lib.ts': `export function shout(text: string): string { return text.toUpperCase() }\n`,
      'ts/typed.ts': [
        `import { shout } from './lib'`,
        `interface Args { name: string; times?: number }`,
        `enum Mood { Happy = 'happy' }`,
        `export async function greet({ name, times = 2 }: Args): Promise<string> {`,
        `  const parts: string[] = Array.from({ length: times }, () => shout(name))`,
        `  return \`\${parts.join(' ')} is \${Mood.Happy}\``,
        `}`,
      ].join('\n'),
      'ts/esm.mts': `type Pair = [string, number]\nexport default function (args: { pair: Pair }): string { return args.pair[0] + (args.pair[1] satisfies number) }\n`,
    })
    const ids: Record<string, string> = {}
    const t: Record<string, Task> = {}
    let worker: SqProcess
    let enqueuedAt: number

    before(async function () {
      this.timeout(60_000)
      enqueuedAt = Date.now()
      const tasks: Array<[string, string, Record<string, unknown>?]> = [
        ['text', 'tasks#text'],
        ['later', 'tasks#later', { value: 'from an async function' }],
        ['json', 'tasks#json'],
        ['number', 'tasks#number'],
        ['nothing', 'tasks#nothing'],
        ['nil', 'tasks#nil'],
        ['circular', 'tasks#circular'],
        ['gen', 'tasks#gen'],
        ['agen', 'tasks#agen'],
        ['progress', 'tasks#progress'],
        ['boom', 'tasks#boom'],
        ['beforeExit', 'tasks#pid'],
        ['exit3', 'tasks#exit3'],
        ['afterExit', 'tasks#pid'],
        ['missing', 'tasks#nope'],
        ['notFn', 'tasks#notAFunction'],
        ['deleted', 'doomed'],
        ['ts', 'ts/typed#greet', { name: 'ada' }],
        ['mts', 'ts/esm', { pair: ['n=', 7] }],
      ]
      // The exit3 trio first and in order, by priority: tasks of one priority created in the same
      // millisecond (PostgreSQL's clock, read back at millisecond precision) may run in either order.
      const priority: Record<string, number> = { beforeExit: 3, exit3: 2, afterExit: 1 }
      for (const [name, ref, args] of tasks) {
        ids[name] = (await s.queue.enqueue({ task: ref, args, queue: s.q, priority: priority[name] ?? 0 })).id
      }
      fs.rmSync(path.join(s.db.dir, 'doomed.mjs'))
      worker = await s.burst([], {}, { exit: 1 })
      for (const [name, id] of Object.entries(ids)) t[name] = await s.get(id)
    })

    // The worker and the database share this host's clock: what the worker measured of their offset
    // must come out at nothing. Its measure is exact to within half the round trip of its best sample,
    // well under a ms on an idle machine, a few ms on a loaded one: the margins below are for that.
    it("records each start on the database's clock at the moment the worker logged it", () => {
      const logged = new Map<string, number>()
      for (const [, at, id] of worker.stdout.matchAll(/^(\S+) started (\S+) /gm)) logged.set(id!, Date.parse(at!))
      const gaps = Object.values(t)
        .filter((task) => task.started && logged.has(task.id))
        .map((task) => Date.parse(task.started!) - logged.get(task.id)!)
      assert.ok(gaps.length >= 10, `${gaps.length} starts logged`)
      // A log line may carry a later time than the start it tells of (lines are written per turn of
      // the event loop), never an earlier one: beyond the clock measure's error, no start is recorded
      // after its log line, and the typical start is recorded at its log line's ms.
      assert.ok(
        gaps.every((gap) => gap <= 5),
        `started − logged, ms: ${gaps.join(' ')}`,
      )
      const median = [...gaps].sort((a, b) => a - b)[gaps.length >> 1]!
      assert.ok(Math.abs(median) <= 1, `median of started − logged ${median} ms: ${gaps.join(' ')}`)
    })

    it('stores return values: strings, async results, JSON text, and null for undefined/null', () => {
      for (const name of ['text', 'later', 'json', 'number', 'nothing', 'nil']) {
        assert.equal(t[name]!.status, 'completed', `${name}: ${t[name]!.error}`)
      }
      assert.equal(t.text!.output, 'a string result')
      assert.equal(t.later!.output, 'from an async function')
      assert.deepEqual(JSON.parse(t.json!.output!), { a: 1, list: [1, 'two', null], nested: { ok: true } })
      assert.equal(t.number!.output, '42')
      assert.equal(t.nothing!.output, null)
      assert.equal(t.nil!.output, null)
    })

    it('fails a task whose result cannot be serialised, with a clear error', () => {
      assert.equal(t.circular!.status, 'failed')
      assert.match(t.circular!.error!, /cannot be serialised as JSON/)
      assert.match(t.circular!.error!, /circular/i)
    })

    it('appends the yields of a generator and an async generator in order', () => {
      assert.equal(t.gen!.status, 'completed')
      assert.equal(t.gen!.output, 'one two three')
      assert.equal(t.agen!.status, 'completed')
      assert.equal(t.agen!.output, 'alpha-beta-gamma')
    })

    it('keeps the latest structured progress in the record, apart from the output', () => {
      assert.equal(t.progress!.status, 'completed')
      assert.equal(t.progress!.output, 'working')
      assert.deepEqual(t.progress!.progress, { current: 3, total: 3, message: 'all done' })
    })

    it('fails a task that throws, with the message and the stack trace in error', () => {
      assert.equal(t.boom!.status, 'failed')
      assert.match(t.boom!.error!, /boom: the task broke/)
      assert.match(t.boom!.error!, /\n\s+at boom \(.*tasks\.mjs:\d+/, `a stack trace naming the task: ${t.boom!.error}`)
    })

    it('fails a task that calls process.exit(3); the same worker runs the next task in a new process', () => {
      assert.equal(t.exit3!.status, 'failed')
      assert.equal(t.exit3!.error, 'Worker subprocess exited with code 3')
      assert.equal(t.afterExit!.status, 'completed')
      assert.equal(t.afterExit!.worker_pid, worker.pid)
      // Each returns the pid of the task process that ran it: the one exit3 ended, and its successor.
      const [before, after] = [Number(t.beforeExit!.output), Number(t.afterExit!.output)]
      assert.ok(before > 0 && after > 0 && before !== worker.pid, `task process pids ${before}, ${after}`)
      assert.notEqual(after, before, 'the task after exit3 ran in a new task process')
      assert.ok(Date.parse(t.afterExit!.started!) >= Date.parse(t.exit3!.finished!))
    })

    it('fails tasks whose export is missing or not a function, or whose module was deleted after enqueue', () => {
      assert.equal(t.missing!.status, 'failed')
      assert.match(t.missing!.error!, /tasks has no export "nope"/)
      assert.equal(t.notFn!.status, 'failed')
      assert.match(t.notFn!.error!, /"notAFunction" of tasks is not a function/)
      assert.equal(t.deleted!.status, 'failed')
      assert.match(t.deleted!.error!, /module "doomed" not found/)
    })

    it('fills the run fields: started, finished, worker host:pid, worker_pid, attempts, duration, cpu, peak rss', () => {
      const r = t.later!
      assert.equal(r.worker, `${os.hostname()}:${worker.pid}`)
      assert.equal(r.worker_pid, worker.pid)
      assert.equal(r.attempts, 1)
      assert.equal(r.max_attempts, 1)
      const started = Date.parse(r.started!)
      const finished = Date.parse(r.finished!)
      assert.ok(
        started >= enqueuedAt - 1000 && started <= finished && finished <= Date.now() + 1000,
        `${r.started} .. ${r.finished}`,
      )
      assert.match(r.finished!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      // The task sleeps 20 ms. The worker clocks a run from the moment it hears it began (the `done` of the
      // run before it in the batch), which under load comes a few ms after the process began it.
      assert.ok(Number.isInteger(r.duration_ms) && r.duration_ms! >= 10, `duration_ms ${r.duration_ms}`)
      assert.ok(Number.isInteger(r.cpu_ms) && r.cpu_ms! >= 0, `cpu_ms ${r.cpu_ms}`)
      assert.ok(r.peak_rss_bytes! > 10 * 1024 * 1024, `peak_rss_bytes ${r.peak_rss_bytes}`)
      assert.equal(r.error, null)
      for (const task of Object.values(t)) {
        assert.ok(
          task.started && task.finished && task.worker && task.duration_ms !== null,
          `${task.task} has its run fields`,
        )
      }
    })

    it('runs TypeScript task modules (.ts with types and a local import, .mts) with no build step', () => {
      assert.equal(t.ts!.status, 'completed', t.ts!.error ?? '')
      assert.equal(t.ts!.output, 'ADA ADA is happy')
      assert.equal(t.mts!.status, 'completed', t.mts!.error ?? '')
      assert.equal(t.mts!.output, 'n=7')
    })
  })
}
