import type { Settings } from '../config.js'
import { authorizeReference } from '../queue/reference.js'
import type { Dialect } from '../storage/dialect.js'
import { appendChunks, claimTasks, endRun, hasRunnable, lostRuns, type RunRef } from '../storage/run-repository.js'
import { redactSecrets } from '../redact.js'
import type { Task } from '../types.js'
import { WorkerPresence } from './heartbeat.js'
import { ProcessPool } from './pool.js'
import { RunOutput } from './run-output.js'
import { outcomeOf, type RunEnd } from './outcome.js'
import type { TaskProcess } from './task-process.js'

export interface WorkerOptions {
  concurrency: number
  queues: string[]
  /** Exit once no runnable task is left (for cron). */
  burst: boolean
  /** Seconds running tasks get to finish after a stop signal before they are killed. */
  graceSeconds: number
  /** Heap limit of each task process, MiB. */
  maxMemoryMb: number
  log(line: string): void
}

interface Running {
  task: Task
  run: RunRef
  output: RunOutput
  startedAt: number
  proc?: TaskProcess
  lost: boolean
  flushing?: Promise<void>
  /** Some output or log has been written as chunks. */
  flushed: boolean
  /** The verdict is being recorded: no more flushes. */
  ending: boolean
}

/** How often an idle worker looks for work when nothing wakes it (SQLite has no LISTEN). */
const POLL_MS = { sqlite: 50, postgres: 1000 }
/** How far behind the database a running task's output may be. */
const FLUSH_MS = 200
/** How often a worker checks that its runs still own their tasks (cancel, rescue by others). */
const OWNERSHIP_MS = 250

/**
 * The worker loop: claim → hand to a task process → record the outcome (always) → next. A soft stop
 * claims nothing more and lets runs finish within the grace period; a hard stop kills them.
 */
export class Worker {
  private readonly presence: WorkerPresence
  private readonly pool: ProcessPool
  private readonly running = new Map<string, Running>()
  private stopping = false
  private hardStopped = false
  /** Wakes the loop from idle(); a wake while the loop is busy is remembered for its next idle(). */
  private wake: () => void = () => (this.woken = true)
  private woken = false
  private timers: NodeJS.Timeout[] = []
  private unlisten: Array<() => Promise<void>> = []
  private done = 0

  constructor(
    private readonly dialect: Dialect,
    private readonly settings: Settings,
    private readonly o: WorkerOptions,
  ) {
    this.presence = new WorkerPresence(dialect, {
      queues: o.queues,
      concurrency: o.concurrency,
      heartbeatTimeout: settings.heartbeatTimeout,
      log: o.log,
    })
    this.pool = new ProcessPool({ maxMemoryMb: o.maxMemoryMb, cwd: settings.root })
  }

  get name(): string {
    return this.presence.name
  }

  /** Runs until stopped (or, in burst mode, until no runnable task is left). */
  async run(): Promise<void> {
    await this.presence.register()
    this.pool.prewarm(this.o.concurrency)
    await this.startBackground()
    this.o.log(`worker ${this.name} started: concurrency ${this.o.concurrency}, queues ${this.o.queues.join(',')}, database ${this.dialect.displayUrl}`)
    try {
      await this.presence.rescueOrphans()
      let failures = 0
      while (!this.stopping) {
        let claimed = 0
        const free = this.o.concurrency - this.running.size
        try {
          claimed = await this.claim(free)
          failures = 0
        } catch (error) {
          // The database is away (restart, network, lock timeout): keep the running tasks, retry the
          // claim with backoff, and say so once per failure.
          failures++
          this.o.log(`cannot claim tasks (attempt ${failures}): ${redactSecrets((error as Error).message)}`)
        }
        if (this.o.burst && failures === 0 && claimed === 0 && this.running.size === 0) break
        if (failures === 0 && claimed > 0 && claimed === free) continue
        await this.idle(failures === 0 ? POLL_MS[this.dialect.name] : Math.min(100 * 2 ** failures, 10_000))
      }
      await this.drain()
    } finally {
      for (const timer of this.timers) clearInterval(timer)
      await Promise.all(this.unlisten.map((stop) => stop()))
      this.pool.dispose()
      await this.presence.unregister().catch(() => {})
      this.o.log(`worker ${this.name} stopped after ${this.done} task${this.done === 1 ? '' : 's'}`)
    }
  }

  /** Claims up to `free` tasks and starts them; returns how many. */
  private async claim(free: number): Promise<number> {
    if (free <= 0 || !(await hasRunnable(this.dialect, this.o.queues))) return 0
    const tasks = await claimTasks(this.dialect, {
      workerId: this.presence.id,
      workerName: this.name,
      pid: process.pid,
      queues: this.o.queues,
      limit: free,
    })
    for (const task of tasks) this.start(task)
    return tasks.length
  }

  /** Soft stop: claim nothing more; running tasks get the grace period. */
  stop(): void {
    this.stopping = true
    this.wake()
  }

  /** Hard stop: kill the running tasks now; they are marked failed. */
  stopNow(): void {
    this.stopping = true
    this.hardStopped = true
    for (const r of this.running.values()) r.proc?.kill('stop', 0)
    this.wake()
  }

  private async startBackground(): Promise<void> {
    const every = (ms: number, fn: () => Promise<unknown>) => {
      let busy = false
      const timer = setInterval(() => {
        if (busy) return
        busy = true
        fn().catch((error) => this.o.log(`worker error: ${(error as Error).message}`)).finally(() => (busy = false))
      }, ms)
      this.timers.push(timer)
    }
    every(this.presence.intervalMs, async () => {
      await this.presence.beat(this.running.size)
      await this.presence.rescueOrphans()
      await this.presence.releaseStrays(new Set(this.running.keys()))
      const rss = (process.memoryUsage().rss / 1024 / 1024).toFixed(1)
      this.o.log(`[RAM Usage: ${rss} MiB] Heartbeat: ${this.name}, ${this.running.size} running, ${this.done} done`)
    })
    every(OWNERSHIP_MS, () => this.checkOwnership())
    every(FLUSH_MS, () => Promise.all([...this.running.values()].map((r) => this.flush(r))))
    this.unlisten.push(await this.dialect.listen('sq_queued', () => this.wake()))
    this.unlisten.push(await this.dialect.listen('sq_cancel', () => void this.checkOwnership()))
  }

  /** Waits until woken (a notification, a run ended, a stop) or `ms` pass. */
  private idle(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      const self = this
      function done() {
        clearTimeout(timer)
        self.wake = () => (self.woken = true)
        resolve()
      }
      this.wake = done
    })
  }

  private start(task: Task): void {
    const r: Running = { task, run: { id: task.id, attempt: task.attempts }, output: new RunOutput(this.settings.maxOutputSize), startedAt: Date.now(), lost: false, flushed: false, ending: false }
    this.running.set(task.id, r)
    this.o.log(`started ${task.id} ${task.task} (attempt ${task.attempts} of ${task.max_attempts})`)
    void this.execute(r).finally(() => {
      this.running.delete(task.id)
      this.done++
      this.wake()
    })
  }

  /** Why the policy (allowlist, root) forbids running this reference; undefined when it does not. */
  private refusal(ref: string): string | undefined {
    try {
      authorizeReference(ref, this.settings.root, this.settings.allowedTasks)
      return undefined
    } catch (error) {
      return (error as Error).message
    }
  }

  /** Runs one claimed task to its end and records the outcome; never throws. */
  private async execute(r: Running): Promise<void> {
    let result: RunEnd
    let timer: NodeJS.Timeout | undefined
    try {
      // The policy again, before anything is imported: the row may not have come from `sq enqueue`.
      const refusal = this.refusal(r.task.task)
      if (refusal !== undefined) {
        result = { kind: 'refused', error: refusal }
      } else {
        const proc = (r.proc = await this.pool.acquire())
        if (r.lost || this.hardStopped) proc.kill(r.lost ? 'lost' : 'stop', 0)
        if (this.settings.taskTimeout > 0) timer = setTimeout(() => proc.kill('timeout'), this.settings.taskTimeout * 1000)
        result = await proc.run(
          { type: 'run', id: r.task.id, attempt: r.run.attempt, task: r.task.task, args: r.task.args, root: this.settings.root, hooks: this.settings.hooks },
          {
            onOutput: (text) => r.output.append('output', text),
            onLog: (text) => r.output.append('log', text),
            onProgress: (progress) => r.output.setProgress(progress),
          },
        )
      }
    } catch (error) {
      result = { kind: 'refused', error: `could not run the task: ${(error as Error).message}` }
    } finally {
      clearTimeout(timer)
      if (r.proc) this.pool.release(r.proc)
      // The process may now run another task: a late verdict that this run was lost (its own endRun
      // seen by checkOwnership before it leaves `running`) must not kill it.
      r.proc = undefined
    }
    try {
      await this.record(r, result)
    } catch (error) {
      this.o.log(`could not record the end of ${r.task.id}: ${(error as Error).message}`)
    }
  }

  private async record(r: Running, end: RunEnd): Promise<void> {
    const durationMs = Date.now() - r.startedAt
    if (end.kind === 'killed' && end.reason === 'lost') {
      this.o.log(`stopped ${r.task.id}: it was cancelled or taken from this worker`)
      return
    }
    if (end.kind === 'completed' && end.output !== null) r.output.append('output', end.output)
    // What is still buffered goes with the verdict; a run that never flushed ends in one UPDATE.
    r.ending = true
    while (r.flushing) await r.flushing
    const outcome = outcomeOf(
      end,
      { attempt: r.run.attempt, maxAttempts: r.task.max_attempts },
      { timeoutSeconds: this.settings.taskTimeout, graceSeconds: this.o.graceSeconds },
      { duration_ms: durationMs, tail: r.output.take(), chunksWritten: r.flushed },
    )
    const recorded = await endRun(this.dialect, r.run, outcome)
    const verdict = !recorded ? 'lost' : outcome.status === 'queued' ? `will retry (in ${outcome.retryAfterSeconds}s)` : outcome.status
    const why = outcome.error ? `: ${outcome.error.split('\n')[0]}` : ''
    this.o.log(`${verdict} ${r.task.id} in ${(durationMs / 1000).toFixed(2)}s${why}`)
  }


  /** Writes what a run has produced; a run that lost its task is stopped. */
  private flush(r: Running): Promise<void> {
    if (r.flushing) return r.flushing.then(() => this.flush(r))
    if (r.output.empty || r.lost || r.ending) return Promise.resolve()
    r.flushed = true
    r.flushing = appendChunks(this.dialect, r.run, r.output.take())
      .then((owned) => {
        if (!owned) this.lose(r)
      })
      .finally(() => (r.flushing = undefined))
    return r.flushing
  }

  private async checkOwnership(): Promise<void> {
    if (this.running.size === 0) return
    const lost = await lostRuns(this.dialect, [...this.running.values()].map((r) => r.run))
    for (const run of lost) {
      const r = this.running.get(run.id)
      if (r) this.lose(r)
    }
  }

  private lose(r: Running): void {
    if (r.lost) return
    r.lost = true
    r.proc?.kill('lost')
  }

  /** Waits for running tasks up to the grace period, then stops what is left. */
  private async drain(): Promise<void> {
    if (this.running.size === 0) return
    this.o.log(`stopping: waiting up to ${this.o.graceSeconds}s for ${this.running.size} running task(s)`)
    const deadline = Date.now() + this.o.graceSeconds * 1000
    while (this.running.size > 0 && Date.now() < deadline) await this.idle(100)
    for (const r of this.running.values()) r.proc?.kill('stop')
    while (this.running.size > 0) await this.idle(50)
  }
}
