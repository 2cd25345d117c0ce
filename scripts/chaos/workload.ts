import fs from 'node:fs'
import path from 'node:path'
import type { Queue } from '../../src/index.js'
import type { Random } from './random.js'

/**
 * The soak's workload: three kinds of task, enqueued continuously through the library. Each execution
 * appends token lines from inside the task (`start`, then `end` or `fail`), so runs are counted apart
 * from sq's own records; generator pieces carry the execution's id, so an output that mixes two
 * executions, or lacks pieces, shows in the stored output itself.
 */

/** `chaos-tasks.mjs`, written into the root. A token line: `ms cid exec attempt workerPid event`. */
const TASKS = `import fs from 'node:fs'
import { randomBytes } from 'node:crypto'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const attempts = (globalThis.__sqChaosAttempts ??= new WeakMap())

// One write per line: O_APPEND keeps lines from several processes whole.
function note(args, exec, event) {
  const line = [Date.now(), args.cid, exec, attempts.get(args) ?? '-', process.ppid, event].join(' ')
  fs.appendFileSync(args.tokens, line + '\\n')
}

export async function quick(args) {
  const exec = randomBytes(4).toString('hex')
  note(args, exec, 'start')
  await sleep(args.ms)
  note(args, exec, 'end')
  return exec
}

export async function* pieces(args) {
  const exec = randomBytes(4).toString('hex')
  note(args, exec, 'start')
  for (let i = 0; i < args.pieces; i++) {
    await sleep(100)
    yield exec + ':' + i + ';'
  }
  note(args, exec, 'end')
}

export async function flaky(args) {
  const exec = randomBytes(4).toString('hex')
  note(args, exec, 'start')
  await sleep(args.ms)
  if (args.always || !fs.existsSync(args.mark)) {
    fs.writeFileSync(args.mark, exec)
    note(args, exec, 'fail')
    throw new Error('deliberate failure')
  }
  note(args, exec, 'end')
  return exec
}
`

/** `chaos-hooks.mjs`: hands the run's attempt number to the task (the hook sees the same args object). */
const HOOKS = `export function beforeJob(task) {
  ;(globalThis.__sqChaosAttempts ??= new WeakMap()).set(task.args, task.attempt)
}
`

export const TASK_MODULE = 'chaos-tasks'
export const HOOKS_MODULE = 'chaos-hooks'

/** Writes the task and hooks modules into `root`. */
export function writeModules(root: string): void {
  fs.writeFileSync(path.join(root, `${TASK_MODULE}.mjs`), TASKS)
  fs.writeFileSync(path.join(root, `${HOOKS_MODULE}.mjs`), HOOKS)
  fs.mkdirSync(path.join(root, 'marks'), { recursive: true })
}

export type Kind = 'quick' | 'pieces' | 'fail-once' | 'fail-always'

/** What the tally expects of each kind: its final status and how many executions end in a deliberate failure. */
export const EXPECTED: Record<Kind, { status: 'completed' | 'failed'; deliberateFailures: number }> = {
  quick: { status: 'completed', deliberateFailures: 0 },
  pieces: { status: 'completed', deliberateFailures: 0 },
  'fail-once': { status: 'completed', deliberateFailures: 1 },
  'fail-always': { status: 'failed', deliberateFailures: 2 },
}

/** Attempts per kind: room for a run or two lost to a killed worker on top of the deliberate failures. */
const MAX_ATTEMPTS: Record<Kind, number> = { quick: 5, pieces: 5, 'fail-once': 5, 'fail-always': 2 }

export interface Enqueued {
  cid: string
  kind: Kind
  id: string
  /** A generator's number of pieces: a completed output holds them all, from one execution. */
  pieces?: number
}

/** Enqueues `rate` tasks a second until stopped; an enqueue the database refused is counted, not retried. */
export class Enqueuer {
  readonly enqueued: Enqueued[] = []
  refused = 0
  lastRefusal = ''
  private stopped = false
  private loop: Promise<void> | undefined
  private n = 0

  constructor(
    private readonly queue: Queue,
    private readonly root: string,
    private readonly tokens: string,
    private readonly random: Random,
    private readonly rate: number,
  ) {}

  start(): void {
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.loop
  }

  private async run(): Promise<void> {
    let due = 0
    while (!this.stopped) {
      const tick = Date.now()
      for (due += this.rate / 10; due >= 1 && !this.stopped; due--) await this.one()
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - (Date.now() - tick))))
    }
  }

  private async one(): Promise<void> {
    const r = this.random.next()
    const kind: Kind = r < 0.85 ? 'quick' : r < 0.93 ? 'pieces' : r < 0.965 ? 'fail-once' : 'fail-always'
    const cid = `${kind[0]}${kind.at(-1)}${++this.n}`
    const args: Record<string, unknown> = { cid, tokens: this.tokens }
    if (kind === 'pieces') args.pieces = this.random.int(5, 30)
    else args.ms = this.random.int(1, 20)
    if (kind.startsWith('fail')) {
      args.mark = path.join(this.root, 'marks', cid)
      args.always = kind === 'fail-always'
    }
    const task = `${TASK_MODULE}#${kind.startsWith('fail') ? 'flaky' : kind}`
    try {
      const { id } = await this.queue.enqueue({ task, args, maxAttempts: MAX_ATTEMPTS[kind] })
      this.enqueued.push({ cid, kind, id, pieces: args.pieces as number | undefined })
    } catch (error) {
      // Refused while the database is away: the caller knows it was not taken, so it is not "lost".
      this.refused++
      this.lastRefusal = (error as Error).message
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
}
