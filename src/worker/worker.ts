import type { Settings } from '../config.js'
import type { SqError } from '../errors.js'
import type { Backend } from '../storage/backend.js'
import type { RunOutcome } from '../storage/run-verdict.js'
import { Claims } from './claims.js'
import { startDuties } from './duties.js'
import { LocalRuns } from './local-runs.js'
import type { WorkerLog } from './log.js'
import { droppedLine, outcomeOf, type RunEnd, runLogFields, verdictLine } from './outcome.js'
import { ProcessPool, taskProcessOptions } from './pool.js'
import { BATCH_WINDOW_MS, Prefetch } from './prefetch.js'
import { WorkerPresence } from './presence.js'
import type { Run } from './run.js'
import { Slots } from './slots.js'
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
  log: WorkerLog
  /** Called with each verdict the database recorded (the burst's exit code counts the failed ones). */
  onVerdict?(taskId: string, outcome: RunOutcome): void
}

/** At a stop, how long verdicts may wait for an unreachable database, at least. */
const MIN_VERDICT_WAIT_ON_STOP_MS = 5000
/** How long after a failed claim the heartbeat looks for strays (told apart after 10 s), and every how many beats. */
const STRAY_WATCH_MS = 40_000
const STRAY_CHECK_BEATS = 6
const DEAF_POLL_MS = 100

/**
 * The worker: a pipeline of claim batches → local queue → task processes → group-committed verdicts,
 * with background duties (duties.ts). A soft stop gives back the unstarted runs and lets running ones
 * finish within the grace period; a hard stop kills them.
 */
export class Worker {
  private readonly presence: WorkerPresence
  private readonly pool: ProcessPool
  private readonly verdicts: VerdictWriter
  private readonly prefetch: Prefetch
  private readonly runs = new LocalRuns()
  private readonly slots: Slots
  private readonly wakeup = new Wakeup()
  /** Woken by a stop only. */
  private readonly stopped = new Wakeup()
  private readonly claims: Claims
  private stopping = false
  private hardStopped = false
  /** Tasks this worker has run to an end so far. */
  tasksDone = 0
  private beats = 0
  private fatal: Error | undefined

  constructor(
    private readonly backend: Backend,
    private readonly settings: Settings,
    private readonly options: WorkerOptions,
  ) {
    const { concurrency, queues, log, maxMemoryMb, maxTasksPerProcess } = options
    this.presence = new WorkerPresence(backend, { ...options, heartbeatTimeout: settings.heartbeatTimeout })
    const { tasksPerProcess } = settings
    this.pool = new ProcessPool({ ...taskProcessOptions(settings), maxMemoryMb }, maxTasksPerProcess, tasksPerProcess)
    this.verdicts = new VerdictWriter(backend, log)
    this.prefetch = new Prefetch(concurrency)
    this.slots = new Slots({
      concurrency,
      shared: tasksPerProcess > 1,
      runs: this.runs,
      prefetch: this.prefetch,
      pool: this.pool,
      settings,
      stopping: () => this.stopping,
      hardStopped: () => this.hardStopped,
      began: (run) => this.began(run),
      ended: (run, end) => this.ended(run, end),
      changed: () => this.wakeup.wake(),
      log,
    })
    this.claims = new Claims(backend, this.presence, queues, settings.maxOutputSize, log)
  }

  /** Runs until stopped (or, in burst mode, until no runnable task is left). */
  async run(): Promise<void> {
    await this.presence.register()
    const stopDuties = await startDuties({
      backend: this.backend,
      settings: this.settings,
      presence: this.presence,
      runs: this.runs,
      log: this.options.log,
      heartbeat: () => this.heartbeat(),
      queued: (payload) => {
        const wake = this.presence.wakes(payload)
        if (wake === 'claim') this.claims.notified()
        if (wake === 'look') this.claims.unsettle()
        if (wake) this.wakeup.wake()
      },
    }).catch(async (error) => {
      // No LISTEN connection (a wrong listenUrl): the worker leaves, as if it never started.
      await this.presence.unregister().catch(() => {})
      throw error
    })
    this.pool.prewarm(this.options.concurrency)
    this.options.log(
      `worker ${this.presence.name} started: concurrency ${this.options.concurrency}, queues ${this.options.queues.join(',')}, database ${this.backend.displayUrl}`,
    )
    try {
      await this.presence.rescueOrphans()
      while (!this.stopping) {
        // A slot is free and nothing waits for it: runs held behind a long one in another process can go.
        if (this.slots.free > 0 && this.runs.waitingCount === 0) this.runs.retractStuck(Date.now() - BATCH_WINDOW_MS)
        if (await this.claim()) continue
        // Burst: idle, verdicts written (a retry may be runnable at once), and still nothing to run.
        if (this.options.burst && this.idle() && (await this.verdicts.flush().then(() => this.claims.noneLeft()))) break
        if (this.claims.failures === 0) {
          if (await this.wakeup.sleep(this.claims.idleMs(this.pollMs()))) this.claims.unsettle()
        }
        // Backing off from a database that is away: only a stop cuts it short (the WAL watch wakes on a full disk).
        else await this.stopped.sleep(Math.min(100 * 2 ** this.claims.failures, 10_000))
      }
      await this.drain()
    } finally {
      this.claims.stopMarking()
      await stopDuties()
      this.pool.dispose()
      await this.presence.unregister().catch(() => {})
      this.options.log(
        `worker ${this.presence.name} stopped after ${this.tasksDone} task${this.tasksDone === 1 ? '' : 's'}`,
      )
    }
    if (this.fatal) throw this.fatal
  }

  /** Soft stop: claim nothing more, give back what waits, let running tasks finish. */
  stop(): void {
    if (!this.stopping) {
      void this.claims.giveBack(this.runs.takeWaiting())
      this.runs.retractHanded()
      // A stop must end even while the database is away (a burst's last verdicts included).
      this.verdicts.giveUpBy(Date.now() + this.options.graceSeconds * 1000 + MIN_VERDICT_WAIT_ON_STOP_MS)
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

  /** Claims a batch into the local queue and starts what fits; true when it got any. */
  private async claim(): Promise<boolean> {
    const { free } = this.slots
    const ahead = this.prefetch.size
    const waiting = this.runs.waitingCount
    // Refill below half of the prefetch, or when a slot would otherwise stay empty.
    if (free + ahead <= waiting || (waiting >= free && waiting > ahead / 2)) return false
    // Without a lead, every claimed task takes a free slot at once.
    const runs = await this.claims.take(free + ahead - waiting, ahead === 0 && waiting === 0)
    if (runs.length === 0) return false
    for (const run of runs) this.runs.add(run)
    // A stop that came while the claim was in flight gives these back too.
    if (this.stopping) void this.claims.giveBack(this.runs.takeWaiting())
    this.slots.fill()
    return true
  }

  private began(run: Run): void {
    run.started()
    this.options.log(
      `started ${run.id} ${run.task.task} (attempt ${run.task.attempts} of ${run.task.max_attempts})`,
      runLogFields(run, this.presence, { status: 'progress' }),
    )
    if (!run.startRecorded) this.claims.markStarts(() => this.runs.unrecordedStarts())
  }

  private async ended(run: Run, end: RunEnd | { kind: 'unstarted' }): Promise<void> {
    if (end.kind === 'unstarted') {
      const lost = run.state === 'lost'
      if (this.runs.takeBack(run, !this.stopping)) this.slots.fill()
      else if (lost) this.options.log(droppedLine(run.id))
      else await this.claims.giveBack([run])
      return
    }
    this.runs.end(run)
    this.tasksDone++
    if (run.startedAt > 0) this.prefetch.observe(run.endedAt - run.startedAt)
    // Held until here, so that the stray release never gives back a run that ran.
    await this.record(run, end).finally(() => this.runs.forget(run))
  }

  /** The run's verdict goes to the VerdictWriter, logged once written; a lost run gets none. */
  private async record(run: Run, end: RunEnd): Promise<void> {
    const { log, onVerdict } = this.options
    if (run.state === 'lost' || (end.kind === 'killed' && end.reason === 'lost')) {
      log(`stopped ${run.id}: it was cancelled or taken from this worker`, runLogFields(run, this.presence))
      return
    }
    run.ending()
    const durationMs = run.endedAt - run.startedAt
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
        if (recorded) onVerdict?.(run.id, written)
        const fields = { duration_ms: Math.round(durationMs), ...(recorded ? { status: written.status } : {}) }
        log(verdictLine(run.id, durationMs, written, recorded), runLogFields(run, this.presence, fields))
      },
    })
  }

  private async heartbeat(): Promise<void> {
    try {
      this.backend.assertIntact()
    } catch (error) {
      this.fatal = error as SqError
      this.options.log(`stopping at once: ${(error as Error).message}`)
      this.stopNow()
      return
    }
    await this.presence.beat(this.runs.runningCount)
    // Strays come from a claim whose answer was lost: looked for after a failed claim, and now and then.
    if (++this.beats % STRAY_CHECK_BEATS === 0 || performance.now() - this.claims.lastFailureAt < STRAY_WATCH_MS)
      await this.presence.releaseStrays((id) => this.runs.holds(id) || this.verdicts.has(id))
    const rss = (process.memoryUsage.rss() / 1024 / 1024).toFixed(1)
    this.options.log(
      `[RAM Usage: ${rss} MiB] Heartbeat: ${this.presence.name}, ${this.runs.runningCount} running, ${this.tasksDone} done`,
    )
  }

  /** The safety net under notifications: a quick poll while the backend cannot hear them. */
  private pollMs(): number {
    return Math.min(this.settings.pollInterval * 1000, this.backend.hearing() ? Number.POSITIVE_INFINITY : DEAF_POLL_MS)
  }

  private idle(): boolean {
    return this.claims.drained && this.claims.failures === 0 && this.runs.empty && this.slots.settled
  }

  /** Waits for running tasks up to the grace period, kills what is left, then writes the verdicts. */
  private async drain(): Promise<void> {
    const deadline = Date.now() + this.options.graceSeconds * 1000
    if (this.runs.runs().length > 0) {
      this.options.log(
        `stopping: waiting up to ${this.options.graceSeconds}s for ${this.runs.runningCount} running task(s)`,
      )
      while (this.runs.runs().length > 0 && Date.now() < deadline && !this.hardStopped) await this.wakeup.sleep(100)
      for (const run of this.runs.runs()) run.proc?.kill('stop')
    }
    await this.slots.settle()
    await this.verdicts.flush(Math.max(deadline, Date.now() + MIN_VERDICT_WAIT_ON_STOP_MS))
  }
}
