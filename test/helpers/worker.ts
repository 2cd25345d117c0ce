import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { openQueue, type Queue, type Task } from '../../src/index.js'
import type { BackendName } from '../../src/storage/backend.js'
import { cleanEnv, SQ_BIN } from './cli.js'
import { createTestDatabase, skipIfLeftOut, type TestDatabase } from './db.js'
import { waitFor } from './wait.js'

/**
 * Real `sq` processes for the worker tests: started from bin/run.js with the test's dir as cwd, their
 * output collected as it comes, and every one of them killed at the end of its test.
 */

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

/** A running `sq` command (a worker, `sq show --follow`, `sq enqueue --wait`, …). */
export class SqProcess {
  readonly child: ChildProcess
  stdout = ''
  stderr = ''
  result: Exit | undefined
  readonly exit: Promise<Exit>

  constructor(
    readonly args: string[],
    o: { cwd: string; env?: Record<string, string | undefined> },
  ) {
    this.child = spawn(process.execPath, [SQ_BIN, ...args], {
      cwd: o.cwd,
      env: { ...cleanEnv(), ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d))
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d))
    this.exit = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.result = { code, signal }
        resolve(this.result)
      })
    })
    live.add(this)
    void this.exit.then(() => live.delete(this))
  }

  get pid(): number {
    return this.child.pid!
  }

  /** Both streams, for assertion messages. */
  get output(): string {
    return `${this.stdout}${this.stderr ? `\n[stderr]\n${this.stderr}` : ''}`
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal)
  }

  /** Waits until stdout (or stderr) matches. */
  async waitForOutput(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
    await waitFor(
      () => pattern.test(this.stdout) || pattern.test(this.stderr) || (this.result && 'exited'),
      timeoutMs,
      `sq ${this.args[0]} to print ${pattern}`,
    )
    assert.ok(
      pattern.test(this.stdout) || pattern.test(this.stderr),
      `sq ${this.args.join(' ')} exited before printing ${pattern}:\n${this.output}`,
    )
  }

  /** Waits for the process to end; fails (and kills it) when it outlives `timeoutMs`. */
  async ended(timeoutMs = 20_000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)))
    const outcome = await Promise.race([this.exit, late])
    clearTimeout(timer)
    if (outcome === 'late') {
      this.child.kill('SIGKILL')
      assert.fail(`sq ${this.args.join(' ')} still ran after ${timeoutMs} ms; it printed:\n${this.output}`)
    }
    return outcome
  }
}

const live = new Set<SqProcess>()

/** Kills every `sq` process still running and returns them: each one is a leak of the test that started it. */
export async function killLeftovers(): Promise<SqProcess[]> {
  const leftovers = [...live]
  for (const p of leftovers) p.signal('SIGKILL')
  await Promise.all(leftovers.map((p) => p.exit))
  return leftovers
}

/** What a worker test works with: its database, a queue handle on it, and a queue name of its own. */
export interface WorkerSuite {
  db: TestDatabase
  queue: Queue
  /** This test's queue name: a worker started through the suite takes tasks only from it. */
  q: string
  /** Enqueues through the library (fast), into this test's queue. */
  enqueue(
    task: string,
    args?: Record<string, unknown>,
    o?: { maxAttempts?: number; priority?: number },
  ): Promise<string>
  get(id: string): Promise<Task>
  /** Polls the database until the task is in one of `statuses` (default: any terminal one). */
  waitForStatus(id: string, statuses?: Task['status'][], timeoutMs?: number): Promise<Task>
  /** `sq worker --db URL --queue Q ...flags`, long-running unless flags say --burst. */
  worker(flags?: string[], env?: Record<string, string>): SqProcess
  /**
   * `sq worker --burst ...`, run to its end; asserts its exit code and returns the process. `exit`: what
   * SPEC §6 says for the tasks the test gave it — 0 when every task it ran completed (the default), 1 when
   * any failed.
   */
  burst(flags?: string[], env?: Record<string, string>, o?: { exit?: 0 | 1; timeoutMs?: number }): Promise<SqProcess>
  /** Any `sq` command, with the test database as SQ_DATABASE_URL and the test dir as cwd. */
  sq(args: string[], env?: Record<string, string>): SqProcess
  /** Writes a file into the test dir (the tasks root) and returns its absolute path. */
  write(name: string, content: string): string
  /** An absolute path in the test dir, for files tasks write (pid files, counters, gates). */
  file(name: string): string
}

/**
 * Registers the hooks of a worker suite on one dialect: a fresh database for the describe block (on
 * PostgreSQL, on the server of `pgAdminUrl` when given, read once the earlier hooks have run), a
 * queue name per test, and after each test every `sq` process it started is killed — one still running
 * at the end of a passing test fails it (a leaked worker).
 */
export function workerSuite(
  dialect: BackendName,
  files: Record<string, string> = {},
  o: { pgAdminUrl?: () => string } = {},
): WorkerSuite {
  let n = 0
  const s = {
    q: '',
    async enqueue(
      task: string,
      args: Record<string, unknown> = {},
      o: { maxAttempts?: number; priority?: number } = {},
    ) {
      return (await s.queue.enqueue({ task, args, queue: s.q, maxAttempts: o.maxAttempts, priority: o.priority })).id
    },
    get: (id: string) => s.queue.get(id),
    async waitForStatus(
      id: string,
      statuses: Task['status'][] = ['completed', 'failed', 'cancelled'],
      timeoutMs = 15_000,
    ) {
      let last: Task | undefined
      return waitFor(
        async () => {
          last = await s.queue.get(id)
          return statuses.includes(last.status) && last
        },
        timeoutMs,
        () => `task ${id} to be ${statuses.join(' or ')} (it is ${last?.status})`,
      )
    },
    worker: (flags: string[] = [], env: Record<string, string> = {}) =>
      s.sq(['worker', '--db', s.db.url, '--queue', s.q, ...flags], env),
    async burst(flags: string[] = [], env: Record<string, string> = {}, o: { exit?: 0 | 1; timeoutMs?: number } = {}) {
      const w = s.worker(['--burst', ...flags], env)
      const exit = await w.ended(o.timeoutMs ?? 30_000)
      const expected = o.exit ?? 0
      assert.deepEqual(
        exit,
        { code: expected, signal: null },
        `sq worker --burst should exit ${expected}:\n${w.output}`,
      )
      return w
    },
    sq: (args: string[], env: Record<string, string> = {}) =>
      new SqProcess(args, { cwd: s.db.dir, env: { SQ_DATABASE_URL: s.db.url, ...env } }),
    write(name: string, content: string) {
      const file = path.join(s.db.dir, name)
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, content)
      return file
    },
    file: (name: string) => path.join(s.db.dir, s.q, name),
  } as WorkerSuite

  before(async function () {
    this.timeout(30_000)
    skipIfLeftOut(this, dialect)
    s.db = await createTestDatabase(dialect, o.pgAdminUrl?.())
    // The queue of the describe block's own before() hooks; each test then gets its own.
    s.q = 't0'
    fs.mkdirSync(path.join(s.db.dir, s.q), { recursive: true })
    for (const [name, content] of Object.entries(files)) s.write(name, content)
    s.queue = await openQueue({ db: s.db.url, root: s.db.dir })
  })
  beforeEach(() => {
    s.q = `t${++n}`
    fs.mkdirSync(path.join(s.db.dir, s.q), { recursive: true })
  })
  afterEach(async function () {
    const leaked = await killLeftovers()
    if (leaked.length > 0 && this.currentTest?.state === 'passed') {
      throw new Error(
        `the test left ${leaked.length} sq process(es) running: ${leaked.map((p) => `sq ${p.args.join(' ')}`).join('; ')}`,
      )
    }
  })
  after(async function () {
    this.timeout(30_000)
    await killLeftovers()
    await s.queue?.close()
    await s.db?.drop()
  })
  return s
}
