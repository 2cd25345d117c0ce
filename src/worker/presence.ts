import os from 'node:os'
import { randomUUID } from 'node:crypto'
import type { Backend } from '../storage/backend.js'
import { releaseUnstarted, requeueUnstarted } from '../storage/run-release.js'
import { endRun } from '../storage/run-verdict.js'
import * as workers from '../storage/worker-repository.js'
import type { WorkerOptions } from './worker.js'

/** How far the clocks' measured offset may wander before it is measured anew. */
const CLOCK_TOLERANCE_MS = 100

/** A worker's identity in the database, its heartbeat, and the rescue of dead workers' tasks. */
export class WorkerPresence {
  readonly id = randomUUID()
  readonly host = os.hostname()
  readonly name = `${this.host}:${process.pid}`

  constructor(
    private readonly backend: Backend,
    private readonly options: Pick<WorkerOptions, 'queues' | 'concurrency' | 'log'> & { heartbeatTimeout: number },
  ) {}

  /** Heartbeat often enough that two missed beats still leave a margin before the timeout. */
  get intervalMs(): number {
    return Math.max(250, Math.min(10_000, (this.options.heartbeatTimeout * 1000) / 3))
  }

  /**
   * When (performance.now()) this worker may first judge others dead. After an outage or a freeze every
   * live worker's beats are stale alike: a worker that saw no beat of its own succeed (new, frozen, or
   * its beats failed) waits a whole timeout from its next good beat, as the others beat again.
   */
  private rescuesFrom = 0
  private lastBeatAt: number | undefined

  /** Database clock minus this host's clock, ms, and the round trip of the sample it came from. */
  private clock: { offsetMs: number; roundTripMs: number } | undefined

  /** A time of this host's clock (Date.now()) on the database's clock, in which records are written. */
  databaseTime(localMs: number): number {
    return Math.round(localMs + (this.clock?.offsetMs ?? 0))
  }

  /**
   * Measures the clocks' offset, keeping the sample of the shortest round trip (the most exact) unless a
   * new one is off by more than CLOCK_TOLERANCE_MS (a clock was set): a stable offset keeps one worker's
   * runs in order in the records.
   */
  private async syncClock(samples = 1): Promise<void> {
    for (let i = 0; i < samples; i++) {
      const [before, started] = [Date.now(), performance.now()]
      const database = await workers.databaseTime(this.backend)
      const [after, roundTripMs] = [Date.now(), performance.now() - started]
      // Not rounded (a ms of error on every record); Date.now() drops half a ms on average: added back.
      const offsetMs = database - ((before + after) / 2 + 0.5)
      const known = this.clock
      if (!known || roundTripMs < known.roundTripMs || Math.abs(offsetMs - known.offsetMs) > CLOCK_TOLERANCE_MS) {
        this.clock = { offsetMs, roundTripMs }
      }
    }
  }

  async register(): Promise<void> {
    this.lastBeatAt = undefined
    this.rescuesFrom = performance.now() + this.options.heartbeatTimeout * 1000
    await this.syncClock(this.clock ? 1 : 5)
    await workers.registerWorker(this.backend, {
      id: this.id,
      name: this.name,
      host: this.host,
      pid: process.pid,
      queues: this.options.queues,
      concurrency: this.options.concurrency,
    })
  }

  async beat(running: number): Promise<void> {
    await this.syncClock()
    if (!(await workers.heartbeat(this.backend, this.id, running))) {
      // Another worker judged this one dead and failed its tasks (their runs will be stopped as lost).
      this.options.log(`worker ${this.name} was presumed dead by another worker; registering again`)
      await this.register()
    }
    // A gap of two intervals and more since the last beat was an outage or a freeze.
    this.holdOffAfterSilence(this.lastBeatAt ?? Number.NEGATIVE_INFINITY)
    this.lastBeatAt = performance.now()
  }

  /** Fails (or retries) the runs of workers whose heartbeat stopped; those not started go back uncharged. */
  async rescueOrphans(): Promise<void> {
    // Before its first beat since a freeze, too: the timers that come due at SIGCONT run in any order.
    this.holdOffAfterSilence(this.lastBeatAt)
    if (performance.now() < this.rescuesFrom) return
    const { heartbeatTimeout: timeout, log } = this.options
    for (const run of await workers.orphanedRuns(this.backend, timeout)) {
      const dead = `Worker ${run.worker ?? 'unknown'} stopped heartbeating (none for over ${timeout}s)`
      if (!run.started) {
        if (await requeueUnstarted(this.backend, run))
          log(`released ${run.id}: ${dead} before starting it; back in the queue`)
        continue
      }
      const error = `${dead}; task marked ${run.attemptsLeft ? 'for retry' : 'failed'} by worker ${this.name}`
      const verdict = run.attemptsLeft
        ? { status: 'queued' as const, error, retryAfterSeconds: 0 }
        : { status: 'failed' as const, error }
      if (await endRun(this.backend, run, verdict)) log(`released ${run.id}: ${error}`)
    }
    await workers.deleteDeadWorkers(this.backend, timeout)
  }

  /**
   * Gives back, uncharged, the runs the database gives to this worker but the worker does not `know`:
   * claims whose answer was lost with the connection, never started.
   */
  async releaseStrays(knows: (id: string) => boolean): Promise<void> {
    const strays = (await workers.runsOfWorker(this.backend, this.id, 10)).filter((run) => !knows(run.id))
    if (strays.length === 0) return
    const released = await releaseUnstarted(this.backend, this.id, strays)
    if (released > 0)
      this.options.log(
        `gave back ${released} task(s) this worker claimed but never received (the claim's answer was lost)`,
      )
  }

  private holdOffAfterSilence(lastBeatAt: number | undefined): void {
    const now = performance.now()
    if (lastBeatAt !== undefined && now - lastBeatAt > 2 * this.intervalMs + 1000)
      this.rescuesFrom = Math.max(this.rescuesFrom, now + this.options.heartbeatTimeout * 1000)
  }

  unregister(): Promise<void> {
    return workers.unregisterWorker(this.backend, this.id)
  }
}
