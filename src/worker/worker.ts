import type { Settings } from '../config.js'
import { SqError } from '../errors.js'
import { authorizeReference } from '../queue/reference.js'
import { redactSecrets } from '../redact.js'
import type { Dialect } from '../storage/dialect.js'
import { appendChunks, claimTasks, hasRunnable, lostRuns, markStarted, releaseUnstarted } from '../storage/run-repository.js'
import { WorkerPresence } from './heartbeat.js'
import { outcomeOf, type RunEnd } from './outcome.js'
import { Periodic } from './periodic.js'
import { ProcessPool } from './pool.js'
import { Prefetch } from './prefetch.js'
import { Run } from './run.js'
import { taskProcessEnv } from './task-env.js'
import { VerdictWriter } from './verdict-writer.js'
import { Wakeup } from './wakeup.js'

export interface WorkerOptions {
  concurrency: number
  queues: string[]
  /** Exit once no runnable task is left (for cron). */
  burst: boolean
  /** Seconds running tasks get to finish after a stop signal before they are killed. */
  graceSeconds: number
  /** Heap limit of each task process, MiB. */
  maxMemoryMb: number
  /** Runs after which a task process is replaced; undefined: never. */
  maxTasksPerProcess?: number
  log(line: string): void
}

/**
 * How often an idle worker looks for work when nothing wakes it: a safety net, since PostgreSQL's
 * NOTIFY and SQLite's WAL watch wake it as soon as a task is queued.
 */
const POLL_MS = 100
/** How far behind the database a running task's output may be. */
const FLUSH_MS = 200
/**
 * A run from the local queue still running this long after it started has its start written (in a
 * batch); shorter runs get it with their verdict. The shorter, the smaller the window in which a
 * worker killed at that moment has its run given back as unstarted.
 */
const MARK_START_AFTER_MS = 5
/** How often a worker checks that its runs still own their tasks (cancel, rescue by others). */
const OWNERSHIP_MS = 250
/** The closest two ownership checks that a cancel notification asks for may be. */
const CANCEL_CHECK_GAP_MS = 50
/** How long the policy's verdict on a reference is reused (it stats files; the child caches imports). */
const POLICY_CACHE_MS = 1000
/** At a stop, how long verdicts may wait for an unreachable database, at least. */
const MIN_VERDICT_WAIT_ON_STOP_MS = 5000

/**
 * The worker: a pipeline of claim batches → local queue → task processes → group-committed verdicts.
 * Claims run ahead of the slots (Prefetch says how far), a slot frees the moment its process finishes,
 * and verdicts follow in the VerdictWriter. Background duties — heartbeat and rescue, output flush,
 * ownership checks — are Periodic services. A soft stop gives back the unstarted runs and lets running
 * ones finish within the grace period; a hard stop kills them.
 */
export class Worker {
  private readonly presence: WorkerPresence
  private readonly pool: ProcessPool
  private readonly verdicts: VerdictWriter
  private readonly prefetch: Prefetch
  /** Claimed, not started, in claim order. */
  private waiting: Run[] = []
  private readonly running = new Map<string, Run>()
  /** Runs whose process is done, before their verdict is handed to the writer. */
  private readonly finishing = new Set<Promise<void>>()
  private readonly wakeup = new Wakeup()
  private readonly policy = new Map<string, { at: number; refusal: string | undefined }>()
  private services: Periodic[] = []
  private unlisten: Array<() => Promise<void>> = []
  private stopping = false
  private hardStopped = false
  /** The last claim found fewer runnable tasks than it asked for: read before taking the write lock. */
  private drained = true
  private claimFailures = 0
  private done = 0
  private fatal: Error | undefined
  private startMarks: NodeJS.Timeout | undefined

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
    this.pool = new ProcessPool({
      maxMemoryMb: o.maxMemoryMb,
      cwd: settings.root,
      env: taskProcessEnv(settings),
      maxTasksPerProcess: o.maxTasksPerProcess,
    })
    this.verdicts = new VerdictWriter(dialect, o.log)
    this.prefetch = new Prefetch(o.concurrency)
  }

  get name(): string {
    return this.presence.name
  }

  /** Runs until stopped (or, in burst mode, until no runnable task is left). */
  async run(): Promise<void> {
    await this.presence.register()
    this.pool.prewarm(this.o.concurrency)
    await this.startServices()
    this.o.log(`worker ${this.name} started: concurrency ${this.o.concurrency}, queues ${this.o.queues.join(',')}, database ${this.dialect.displayUrl}`)
    try {
      await this.presence.rescueOrphans()
      while (!this.stopping) {
        if (this.wantsClaim() && (await this.claim())) continue
        if (this.o.burst && this.idle() && (await this.nothingLeft())) break
        await this.wakeup.sleep(this.claimFailures === 0 ? POLL_MS : Math.min(100 * 2 ** this.claimFailures, 10_000))
      }
      await this.drain()
    } finally {
      clearTimeout(this.startMarks)
      await Promise.all(this.services.map((s) => s.stop()))
      await Promise.all(this.unlisten.map((stop) => stop()))
      this.pool.dispose()
      await this.presence.unregister().catch(() => {})
      this.o.log(`worker ${this.name} stopped after ${this.done} task${this.done === 1 ? '' : 's'}`)
    }
    if (this.fatal) throw this.fatal
  }

  /** Soft stop: claim nothing more, give back what waits, let running tasks finish. */
  stop(): void {
    if (!this.stopping) {
      void this.releaseWaiting()
      // A stop must end even while the database is away (a burst's last verdicts included).
      this.verdicts.giveUpBy(Date.now() + this.o.graceSeconds * 1000 + MIN_VERDICT_WAIT_ON_STOP_MS)
    }
    this.stopping = true
    this.wakeup.wake()
  }

  /** Hard stop: kill the running tasks now. */
  stopNow(): void {
    this.stop()
    this.verdicts.giveUpBy(Date.now() + MIN_VERDICT_WAIT_ON_STOP_MS)
    this.hardStopped = true
    for (const run of this.running.values()) run.proc?.kill('stop', 0)
  }

  private async startServices(): Promise<void> {
    const onError = (error: Error) => this.o.log(`worker error: ${redactSecrets(error.message)}`)
    const ownership = new Periodic(OWNERSHIP_MS, () => this.checkOwnership(), onError)
    this.services = [
      new Periodic(this.presence.intervalMs, () => this.heartbeat(), onError),
      new Periodic(FLUSH_MS, () => this.flushOutput(), onError),
      ownership,
    ].map((s) => s.start())
    this.unlisten.push(
      await this.dialect.listen('sq_queued', (queue) => {
        // A notification naming one of its queues (PostgreSQL) says there is a task: claim it without
        // reading first. An empty payload is only a hint (SQLite's WAL watch, a reconnection).
        if (this.o.queues.includes(queue)) this.drained = false
        this.wakeup.wake()
      }),
    )
    this.unlisten.push(await this.dialect.listen('sq_cancel', () => ownership.soon(CANCEL_CHECK_GAP_MS)))
  }

  private wantsClaim(): boolean {
    const free = this.o.concurrency - this.running.size
    const ahead = this.prefetch.size
    // Refill below half of the prefetch, or when a slot would otherwise stay empty.
    return free + ahead > this.waiting.length && (this.waiting.length < free || this.waiting.length <= ahead / 2)
  }

  /** Claims a batch into the local queue and starts what fits; true when it got any. */
  private async claim(): Promise<boolean> {
    const ahead = this.prefetch.size
    const want = this.o.concurrency - this.running.size + ahead - this.waiting.length
    // Without a lead, every claimed task takes a free slot at once: the claim records the start.
    const startNow = ahead === 0 && this.waiting.length === 0
    try {
      // After a short claim the queue looked empty: a plain read finds out, without the write lock.
      if (this.drained && !(await hasRunnable(this.dialect, this.o.queues))) {
        this.claimFailures = 0
        return false
      }
      const tasks = await claimTasks(this.dialect, {
        workerId: this.presence.id,
        workerName: this.name,
        pid: process.pid,
        queues: this.o.queues,
        limit: want,
        startNow,
      })
      this.claimFailures = 0
      this.drained = tasks.length < want
      for (const task of tasks) {
        const run = new Run(task, this.settings.maxOutputSize)
        run.startRecorded = startNow
        this.waiting.push(run)
      }
      // A stop that came while the claim was in flight gives these back too.
      if (this.stopping) void this.releaseWaiting()
      this.dispatch()
      return tasks.length > 0
    } catch (error) {
      // The database is away (restart, network, lock timeout): keep the running tasks, retry the
      // claim with backoff, and say so once per failure.
      this.claimFailures++
      this.drained = true
      this.o.log(`cannot claim tasks (attempt ${this.claimFailures}): ${redactSecrets((error as Error).message)}`)
      return false
    }
  }

  /** Starts waiting runs while slots are free. */
  private dispatch(): void {
    while (!this.stopping && this.running.size < this.o.concurrency) {
      const run = this.waiting.shift()
      if (!run) return
      run.state = 'running'
      run.startedAt = Date.now()
      this.running.set(run.id, run)
      this.o.log(`started ${run.id} ${run.task.task} (attempt ${run.task.attempts} of ${run.task.max_attempts})`)
      if (!run.startRecorded) this.scheduleStartMarks()
      const finished = this.execute(run).then((end) => this.finish(run, end))
      this.finishing.add(finished)
      void finished.finally(() => this.finishing.delete(finished))
    }
  }

  /** Runs one task in a task process; never throws. The slot frees as soon as the process is done. */
  private async execute(run: Run): Promise<RunEnd> {
    let end: RunEnd
    let timer: NodeJS.Timeout | undefined
    try {
      // The policy again, before anything is imported: the row may not have come from `sq enqueue`.
      const refusal = this.refusal(run.task.task)
      if (refusal !== undefined) {
        end = { kind: 'refused', error: refusal }
      } else {
        const proc = (run.proc = await this.pool.acquire())
        if (run.state === 'lost' || this.hardStopped) proc.kill(run.state === 'lost' ? 'lost' : 'stop', 0)
        if (this.settings.taskTimeout > 0) timer = setTimeout(() => proc.kill('timeout'), this.settings.taskTimeout * 1000)
        end = await proc.run(
          { type: 'run', id: run.id, attempt: run.ref.attempt, task: run.task.task, args: run.task.args, root: this.settings.root, hooks: this.settings.hooks },
          {
            onOutput: (text) => run.output.append('output', text),
            onLog: (text) => run.output.append('log', text),
            onProgress: (progress) => run.output.setProgress(progress),
          },
        )
      }
    } catch (error) {
      end = { kind: 'refused', error: `could not run the task: ${(error as Error).message}` }
    } finally {
      clearTimeout(timer)
      if (run.proc) this.pool.release(run.proc)
      // The process may now run another task: a late "lost" for this run must not kill it.
      run.proc = undefined
    }
    run.endedAt = Date.now()
    this.running.delete(run.id)
    this.done++
    this.prefetch.observe(run.endedAt - run.startedAt)
    this.dispatch()
    this.wakeup.wake()
    return end
  }

  /** Hands the run's verdict to the writer (a run that lost its task gets none). */
  private async finish(run: Run, end: RunEnd): Promise<void> {
    const durationMs = run.endedAt - run.startedAt
    if (run.state === 'lost' || (end.kind === 'killed' && end.reason === 'lost')) {
      this.o.log(`stopped ${run.id}: it was cancelled or taken from this worker`)
      return
    }
    run.state = 'ending'
    if (end.kind === 'completed' && end.output !== null) run.output.append('output', end.output)
    // What is still buffered goes with the verdict; a run that never flushed ends in one row of a batch.
    while (run.flushing) await run.flushing
    const outcome = outcomeOf(
      end,
      { attempt: run.ref.attempt, maxAttempts: run.task.max_attempts },
      { timeoutSeconds: this.settings.taskTimeout, graceSeconds: this.o.graceSeconds },
      {
        durationMs,
        tail: run.output.take(),
        chunksWritten: run.flushed,
        ran: { startedAt: this.presence.databaseTime(run.startedAt), endedAt: this.presence.databaseTime(run.endedAt) },
      },
    )
    this.verdicts.add({
      run: run.ref,
      outcome,
      done: (recorded) => {
        const verdict = !recorded ? 'lost' : outcome.status === 'queued' ? `will retry (in ${outcome.retryAfterSeconds}s)` : outcome.status
        const why = outcome.error ? `: ${outcome.error.split('\n')[0]}` : ''
        this.o.log(`${verdict} ${run.id} in ${(durationMs / 1000).toFixed(2)}s${why}`)
      },
    })
  }

  /** Why the policy (allowlist, root) forbids running this reference; undefined when it does not. */
  private refusal(ref: string): string | undefined {
    const now = Date.now()
    const cached = this.policy.get(ref)
    if (cached && now - cached.at < POLICY_CACHE_MS) return cached.refusal
    let refusal: string | undefined
    try {
      authorizeReference(ref, this.settings.root, this.settings.allowedTasks)
    } catch (error) {
      refusal = (error as Error).message
    }
    if (this.policy.size > 1000) this.policy.clear()
    this.policy.set(ref, { at: now, refusal })
    return refusal
  }

  private async heartbeat(): Promise<void> {
    try {
      this.dialect.assertIntact()
    } catch (error) {
      this.fatal = error as SqError
      this.o.log(`stopping at once: ${(error as Error).message}`)
      this.stopNow()
      return
    }
    await this.presence.beat(this.running.size)
    await this.presence.rescueOrphans()
    await this.presence.releaseStrays((id) => this.running.has(id) || this.verdicts.has(id) || this.waiting.some((r) => r.id === id))
    const rss = (process.memoryUsage.rss() / 1024 / 1024).toFixed(1)
    this.o.log(`[RAM Usage: ${rss} MiB] Heartbeat: ${this.name}, ${this.running.size} running, ${this.done} done`)
  }

  /**
   * Records, in one statement, the start of runs that came from the local queue and are still running
   * MARK_START_AFTER_MS later (shorter ones get it with their verdict).
   */
  private scheduleStartMarks(): void {
    if (this.startMarks) return
    this.startMarks = setTimeout(() => {
      const due = Date.now() - MARK_START_AFTER_MS
      const runs = [...this.running.values()].filter((r) => r.state === 'running' && !r.startRecorded)
      const marked = runs.filter((r) => r.startedAt <= due)
      for (const r of marked) r.startRecorded = true
      markStarted(this.dialect, this.presence.id, marked.map((r) => r.ref))
        .catch((error: Error) => {
          for (const r of marked) r.startRecorded = false
          this.o.log(`could not record the start of ${marked.length} task(s): ${redactSecrets(error.message)}`)
        })
        .finally(() => {
          this.startMarks = undefined
          if ([...this.running.values()].some((r) => r.state === 'running' && !r.startRecorded)) this.scheduleStartMarks()
        })
    }, MARK_START_AFTER_MS)
  }

  /** Writes the output runs have produced. */
  private async flushOutput(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => this.flush(r)))
  }

  private flush(run: Run): Promise<void> {
    if (run.flushing || run.output.empty || run.state !== 'running') return Promise.resolve()
    run.flushed = true
    run.flushing = appendChunks(this.dialect, run.ref, run.output.take())
      .then((owned) => {
        if (!owned) this.lose(run)
      })
      .finally(() => (run.flushing = undefined))
    return run.flushing
  }

  /** Stops runs, running or waiting, whose task was cancelled, requeued or rescued meanwhile. */
  private async checkOwnership(): Promise<void> {
    const runs = [...this.waiting, ...this.running.values()].filter((r) => r.state === 'waiting' || r.state === 'running')
    if (runs.length === 0) return
    const lost = new Set((await lostRuns(this.dialect, runs.map((r) => r.ref))).map((ref) => ref.id))
    if (lost.size === 0) return
    this.waiting = this.waiting.filter((r) => {
      if (!lost.has(r.id)) return true
      r.state = 'lost'
      this.o.log(`dropped ${r.id}: it was cancelled or taken from this worker before it started`)
      return false
    })
    for (const r of this.running.values()) if (lost.has(r.id)) this.lose(r)
  }

  private lose(run: Run): void {
    if (run.state === 'lost') return
    run.state = 'lost'
    run.proc?.kill('lost')
  }

  /** Gives the claimed, unstarted runs back to the queue without spending their attempt. */
  private async releaseWaiting(): Promise<void> {
    const runs = this.waiting.splice(0)
    if (runs.length === 0) return
    for (const r of runs) r.state = 'lost'
    try {
      const released = await releaseUnstarted(this.dialect, this.presence.id, runs.map((r) => r.ref))
      this.o.log(`gave back ${released} claimed task${released === 1 ? '' : 's'} that had not started`)
    } catch (error) {
      // Left claimed: the heartbeat's stray release (or, once this worker is gone, another worker's
      // rescue) puts them back, unstarted and uncharged.
      this.o.log(`could not give back ${runs.length} unstarted task(s): ${redactSecrets((error as Error).message)}`)
    }
  }

  private idle(): boolean {
    return this.drained && this.claimFailures === 0 && this.running.size === 0 && this.waiting.length === 0 && this.finishing.size === 0
  }

  /** Burst mode: verdicts written (a retry may be runnable at once), and still nothing to run? */
  private async nothingLeft(): Promise<boolean> {
    await this.verdicts.flush()
    try {
      return !(await hasRunnable(this.dialect, this.o.queues))
    } catch {
      return false
    }
  }

  /** Waits for running tasks up to the grace period, kills what is left, then writes the verdicts. */
  private async drain(): Promise<void> {
    const deadline = Date.now() + this.o.graceSeconds * 1000
    if (this.running.size > 0) {
      this.o.log(`stopping: waiting up to ${this.o.graceSeconds}s for ${this.running.size} running task(s)`)
      while (this.running.size > 0 && Date.now() < deadline && !this.hardStopped) await this.wakeup.sleep(100)
      for (const run of this.running.values()) run.proc?.kill('stop')
    }
    while (this.finishing.size > 0) await Promise.all(this.finishing)
    await this.verdicts.flush(Math.max(deadline, Date.now() + MIN_VERDICT_WAIT_ON_STOP_MS))
  }
}
