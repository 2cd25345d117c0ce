import type { Settings } from '../config.js'
import type { SqError } from '../errors.js'
import { redactSecrets } from '../redact.js'
import type { Backend } from '../storage/backend.js'
import { releaseUnstarted } from '../storage/run-release.js'
import { claimTasks, hasRunnable } from '../storage/run-repository.js'
import type { RunOutcome } from '../storage/run-verdict.js'
import { WorkerPresence } from './heartbeat.js'
import { describeVerdict, droppedLine, outcomeOf, type RunEnd } from './outcome.js'
import { Periodic } from './periodic.js'
import { ProcessPool } from './pool.js'
import { Prefetch } from './prefetch.js'
import { type BatchEnd, executeBatch, type ExecuteContext } from './execute.js'
import { LocalRuns } from './local-runs.js'
import { Run } from './run.js'
import { RunUpkeep } from './run-upkeep.js'
import { Scheduler } from './scheduler.js'
import { StartMarks } from './start-marks.js'
import { TaskPolicy } from './task-policy.js'
import { taskDatabaseUrl, taskProcessEnv } from './task-env.js'
import { VerdictWriter } from './verdict-writer.js'
import { Wakeup } from './wakeup.js'
import type { TaskLogFields, WorkerLog } from './log.js'

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
  log: WorkerLog
  /** Called with each verdict the database recorded (the burst's exit code counts the failed ones). */
  onVerdict?(taskId: string, outcome: RunOutcome): void
}

/** How far behind the database a running task's output may be. */
const FLUSH_MS = 200
/** How often a worker checks that its runs still own their tasks (cancel, rescue by others). */
const OWNERSHIP_MS = 250
/** The closest two ownership checks that a cancel notification asks for may be. */
const CANCEL_CHECK_GAP_MS = 50
/** How often a background duty's error is logged again while it repeats (an outage). */
const REPEATED_ERROR_MS = 5000
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
  private readonly runs = new LocalRuns()
  /** Task processes with a batch of runs. */
  private busySlots = 0
  /** Runs whose process is done, before their verdict is handed to the writer. */
  private readonly finishing = new Set<Promise<void>>()
  private readonly wakeup = new Wakeup()
  /** Woken by a stop only. */
  private readonly stopped = new Wakeup()
  private readonly execution: ExecuteContext
  private readonly startMarks: StartMarks
  private readonly upkeep: RunUpkeep
  private services: Periodic[] = []
  private unlisten: Array<() => Promise<void>> = []
  private stopping = false
  private hardStopped = false
  /** The last claim found fewer runnable tasks than it asked for: read before taking the write lock. */
  private drained = true
  private claimFailures = 0
  private done = 0
  private fatal: Error | undefined

  constructor(
    private readonly backend: Backend,
    private readonly settings: Settings,
    private readonly o: WorkerOptions,
  ) {
    this.presence = new WorkerPresence(backend, {
      queues: o.queues,
      concurrency: o.concurrency,
      heartbeatTimeout: settings.heartbeatTimeout,
      log: o.log,
    })
    this.pool = new ProcessPool({
      maxMemoryMb: o.maxMemoryMb,
      cwd: settings.root,
      env: taskProcessEnv(settings),
      databaseUrl: taskDatabaseUrl(settings),
      maxTasksPerProcess: o.maxTasksPerProcess,
    })
    this.verdicts = new VerdictWriter(backend, o.log)
    this.prefetch = new Prefetch(o.concurrency)
    this.execution = {
      pool: this.pool,
      policy: new TaskPolicy(settings.root, settings.allowedTasks),
      settings,
      stopping: () => this.stopping,
      hardStopped: () => this.hardStopped,
      began: (run) => this.began(run),
    }
    this.startMarks = new StartMarks(backend, this.presence.id, () => this.runs.unrecordedStarts(), o.log)
    this.upkeep = new RunUpkeep(backend, this.runs, o.log)
  }

  get name(): string {
    return this.presence.name
  }

  /** Tasks this worker has run to an end so far. */
  get tasksDone(): number {
    return this.done
  }

  /** Runs until stopped (or, in burst mode, until no runnable task is left). */
  async run(): Promise<void> {
    await this.presence.register()
    this.pool.prewarm(this.o.concurrency)
    await this.startServices()
    this.o.log(
      `worker ${this.name} started: concurrency ${this.o.concurrency}, queues ${this.o.queues.join(',')}, database ${this.backend.displayUrl}`,
    )
    try {
      await this.presence.rescueOrphans()
      while (!this.stopping) {
        // A slot is free and nothing waits for it: runs held behind a long one in another process can go.
        if (this.busySlots < this.o.concurrency && this.runs.waitingCount === 0) {
          this.runs.retractStuck(Date.now() - this.prefetch.batchWindowMs)
        }
        if (this.wantsClaim() && (await this.claim())) continue
        if (this.o.burst && this.idle() && (await this.nothingLeft())) break
        if (this.claimFailures === 0) await this.wakeup.sleep(this.settings.pollInterval * 1000)
        // Backing off from a database that is away: no wake-up cuts it short (SQLite's WAL watch sees
        // every write attempt, on a full disk too), only a stop.
        else await this.stopped.sleep(Math.min(100 * 2 ** this.claimFailures, 10_000))
      }
      await this.drain()
    } finally {
      this.startMarks.stop()
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
      this.runs.retractHanded()
      // A stop must end even while the database is away (a burst's last verdicts included).
      this.verdicts.giveUpBy(Date.now() + this.o.graceSeconds * 1000 + MIN_VERDICT_WAIT_ON_STOP_MS)
    }
    this.stopping = true
    this.wakeup.wake()
    this.stopped.wake()
  }

  /** Hard stop: kill the running tasks now. */
  stopNow(): void {
    this.stop()
    this.verdicts.giveUpBy(Date.now() + MIN_VERDICT_WAIT_ON_STOP_MS)
    this.hardStopped = true
    for (const run of this.runs.runs()) run.proc?.kill('stop', 0)
  }

  private async startServices(): Promise<void> {
    // While the database is away every service fails at its own pace (the ownership check 4 times a
    // second): the same error is said once per REPEATED_ERROR_MS, not each time.
    let said = { text: '', at: 0 }
    const onError = (error: Error) => {
      const text = `worker error: ${redactSecrets(error.message)}`
      const now = Date.now()
      if (text === said.text && now - said.at < REPEATED_ERROR_MS) return
      said = { text, at: now }
      this.o.log(text)
    }
    const ownership = new Periodic(OWNERSHIP_MS, () => this.upkeep.checkOwnership(), onError)
    this.services = [
      new Periodic(this.presence.intervalMs, () => this.heartbeat(), onError),
      new Periodic(FLUSH_MS, () => this.upkeep.flushOutput(), onError),
      ownership,
      ...new Scheduler(this.backend, this.settings, {
        now: () => this.presence.databaseTime(Date.now()),
        log: this.o.log,
      }).services(onError),
    ].map((s) => s.start())
    this.unlisten.push(
      await this.backend.listen('sq_queued', (queue) => {
        // A notification naming one of its queues (PostgreSQL) says there is a task: claim it without
        // reading first. An empty payload is only a hint (SQLite's WAL watch, a reconnection).
        if (this.o.queues.includes(queue)) this.drained = false
        this.wakeup.wake()
      }),
    )
    this.unlisten.push(await this.backend.listen('sq_cancel', () => ownership.soon(CANCEL_CHECK_GAP_MS)))
  }

  private wantsClaim(): boolean {
    const free = this.o.concurrency - this.busySlots
    const ahead = this.prefetch.size
    const waiting = this.runs.waitingCount
    // Refill below half of the prefetch, or when a slot would otherwise stay empty.
    return free + ahead > waiting && (waiting < free || waiting <= ahead / 2)
  }

  /** Claims a batch into the local queue and starts what fits; true when it got any. */
  private async claim(): Promise<boolean> {
    const ahead = this.prefetch.size
    const want = this.o.concurrency - this.busySlots + ahead - this.runs.waitingCount
    // Without a lead, every claimed task takes a free slot at once: the claim records the start.
    const startNow = ahead === 0 && this.runs.waitingCount === 0
    try {
      // After a short claim the queue looked empty: a plain read finds out, without the write lock.
      if (this.drained && !(await hasRunnable(this.backend, this.o.queues))) {
        this.claimFailures = 0
        return false
      }
      const tasks = await claimTasks(this.backend, {
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
        const run = new Run(task, task.claim, this.settings.maxOutputSize)
        run.startRecorded = startNow
        this.runs.add(run)
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

  /** Hands waiting runs, in batches, to task processes while slots are free. */
  private dispatch(): void {
    let handed = false
    while (!this.stopping && this.busySlots < this.o.concurrency && this.runs.waitingCount > 0) {
      const free = this.o.concurrency - this.busySlots
      const batch = this.runs.hand(this.prefetch.batch(this.runs.waitingCount, free))
      this.busySlots++
      handed = true
      const { ends, released } = executeBatch(batch, this.execution)
      batch.forEach((run, i) => {
        // Nothing may reject here unhandled: that would end the worker, and every run with it.
        const finished = ends[i]!.then((end) => this.ended(run, end)).catch((error: Error) =>
          this.o.log(`worker error: ${redactSecrets(error.message)}`),
        )
        this.finishing.add(finished)
        void finished.finally(() => this.finishing.delete(finished))
      })
      void released.then(() => {
        this.busySlots--
        this.dispatch()
        this.wakeup.wake()
      })
    }
    // Fewer runs wait now: the claim loop may want to refill.
    if (handed) this.wakeup.wake()
  }

  /** A task process began the run. */
  private began(run: Run): void {
    this.runs.begin(run)
    this.o.log(
      `started ${run.id} ${run.task.task} (attempt ${run.task.attempts} of ${run.task.max_attempts})`,
      this.taskFields(run, { status: 'progress' }),
    )
    if (!run.startRecorded) this.startMarks.schedule()
  }

  /** A handed run ended: its verdict goes to the writer, or, never begun, it is taken back. */
  private async ended(run: Run, end: BatchEnd): Promise<void> {
    if (end.kind === 'unstarted') {
      const lost = run.state === 'lost'
      if (this.runs.takeBack(run, !this.stopping)) this.dispatch()
      else if (lost) this.o.log(droppedLine(run.id))
      else await this.giveBack([run])
      return
    }
    this.runs.end(run)
    this.done++
    if (run.startedAt > 0) this.prefetch.observe(run.endedAt - run.startedAt)
    try {
      await this.finish(run, end)
    } finally {
      // Held until here, so that the stray release never gives back a run that ran.
      this.runs.forget(run)
    }
  }

  /** Hands the run's verdict to the writer (a run that lost its task gets none). */
  private async finish(run: Run, end: RunEnd): Promise<void> {
    // A run refused before it began has no time of its own.
    if (run.startedAt === 0) run.startedAt = run.endedAt
    const durationMs = run.endedAt - run.startedAt
    if (run.state === 'lost' || (end.kind === 'killed' && end.reason === 'lost')) {
      this.o.log(`stopped ${run.id}: it was cancelled or taken from this worker`, this.taskFields(run))
      return
    }
    run.state = 'ending'
    if (end.kind === 'completed' && end.output !== null) run.output.append('output', end.output)
    // What is still buffered goes with the verdict; a run that never flushed ends in one row of a batch.
    while (run.flushing) await run.flushing
    const outcome = outcomeOf(
      end,
      { attempt: run.task.attempts, maxAttempts: run.task.max_attempts },
      { timeoutSeconds: this.settings.taskTimeout },
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
      // What was written: a verdict refused for its content is replaced by a failure that says so.
      done: (recorded, written) => {
        if (recorded) this.o.onVerdict?.(run.id, written)
        const { verdict, why } = describeVerdict(written, recorded)
        this.o.log(
          `${verdict} ${run.id} in ${(durationMs / 1000).toFixed(2)}s${why}`,
          this.taskFields(run, {
            duration_ms: Math.round(durationMs),
            ...(recorded ? { status: written.status } : {}),
          }),
        )
      },
    })
  }

  /** The fields of a log line about one run (--log-format json). */
  private taskFields(run: Run, more: Partial<TaskLogFields> = {}): TaskLogFields {
    return { task_id: run.id, task: run.task.task, attempt: run.task.attempts, worker: this.name, ...more }
  }

  private async heartbeat(): Promise<void> {
    try {
      this.backend.assertIntact()
    } catch (error) {
      this.fatal = error as SqError
      this.o.log(`stopping at once: ${(error as Error).message}`)
      this.stopNow()
      return
    }
    await this.presence.beat(this.runs.runningCount)
    await this.presence.rescueOrphans()
    await this.presence.releaseStrays((id) => this.runs.holds(id) || this.verdicts.has(id))
    const rss = (process.memoryUsage.rss() / 1024 / 1024).toFixed(1)
    this.o.log(`[RAM Usage: ${rss} MiB] Heartbeat: ${this.name}, ${this.runs.runningCount} running, ${this.done} done`)
  }

  /** Gives the claimed, unstarted runs back to the queue without spending their attempt. */
  private releaseWaiting(): Promise<void> {
    return this.giveBack(this.runs.takeWaiting())
  }

  private async giveBack(runs: Run[]): Promise<void> {
    if (runs.length === 0) return
    try {
      const released = await releaseUnstarted(
        this.backend,
        this.presence.id,
        runs.map((r) => r.ref),
      )
      this.o.log(`gave back ${released} claimed task${released === 1 ? '' : 's'} that had not started`)
    } catch (error) {
      // Left claimed: the heartbeat's stray release (or, once this worker is gone, another worker's
      // rescue) puts them back, unstarted and uncharged.
      this.o.log(`could not give back ${runs.length} unstarted task(s): ${redactSecrets((error as Error).message)}`)
    }
  }

  private idle(): boolean {
    return this.drained && this.claimFailures === 0 && this.runs.empty && this.finishing.size === 0
  }

  /** Burst mode: verdicts written (a retry may be runnable at once), and still nothing to run? */
  private async nothingLeft(): Promise<boolean> {
    await this.verdicts.flush()
    try {
      return !(await hasRunnable(this.backend, this.o.queues))
    } catch {
      return false
    }
  }

  /** Waits for running tasks up to the grace period, kills what is left, then writes the verdicts. */
  private async drain(): Promise<void> {
    const deadline = Date.now() + this.o.graceSeconds * 1000
    if (this.runs.handedCount > 0) {
      this.o.log(`stopping: waiting up to ${this.o.graceSeconds}s for ${this.runs.runningCount} running task(s)`)
      while (this.runs.handedCount > 0 && Date.now() < deadline && !this.hardStopped) await this.wakeup.sleep(100)
      for (const run of this.runs.runs()) run.proc?.kill('stop')
    }
    while (this.finishing.size > 0) await Promise.all(this.finishing)
    await this.verdicts.flush(Math.max(deadline, Date.now() + MIN_VERDICT_WAIT_ON_STOP_MS))
  }
}
