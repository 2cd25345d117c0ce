import os from 'node:os'
import { randomUUID } from 'node:crypto'
import type { Dialect } from '../storage/dialect.js'
import { endRun } from '../storage/run-repository.js'
import * as workers from '../storage/worker-repository.js'

/** A worker's identity in the database, its heartbeat, and the rescue of dead workers' tasks. */
export class WorkerPresence {
  readonly id = randomUUID()
  readonly host = os.hostname()
  readonly name = `${this.host}:${process.pid}`

  constructor(
    private readonly dialect: Dialect,
    private readonly o: { queues: string[]; concurrency: number; heartbeatTimeout: number; log(line: string): void },
  ) {}

  /** Heartbeat often enough that two missed beats still leave a margin before the timeout. */
  get intervalMs(): number {
    return Math.max(250, Math.min(10_000, (this.o.heartbeatTimeout * 1000) / 3))
  }

  register(): Promise<void> {
    return workers.registerWorker(this.dialect, {
      id: this.id,
      name: this.name,
      host: this.host,
      pid: process.pid,
      queues: this.o.queues,
      concurrency: this.o.concurrency,
    })
  }

  async beat(running: number): Promise<void> {
    if (!(await workers.heartbeat(this.dialect, this.id, running))) {
      // Another worker judged this one dead (it missed its beats) and failed its tasks; those runs are
      // lost and will be stopped. Come back under the same id and go on.
      this.o.log(`worker ${this.name} was presumed dead by another worker; registering again`)
      await this.register()
    }
  }

  /** Fails (or retries) the tasks of workers whose heartbeat stopped, on any host. */
  async rescueOrphans(): Promise<number> {
    const orphans = await workers.orphanedRuns(this.dialect, this.o.heartbeatTimeout)
    const rescued = await this.release(orphans, (o) =>
      `Worker ${o.worker ?? 'unknown'} stopped heartbeating (none for over ${this.o.heartbeatTimeout}s); task marked ${o.attemptsLeft ? 'for retry' : 'failed'} by worker ${this.name}`)
    await workers.deleteDeadWorkers(this.dialect, this.o.heartbeatTimeout)
    return rescued
  }

  /**
   * Releases runs the database gives to this worker but the worker is not running: claims whose answer
   * was lost with the connection. Without this they would stay in progress for as long as this worker
   * heartbeats.
   */
  async releaseStrays(running: ReadonlySet<string>): Promise<number> {
    const strays = (await workers.runsOfWorker(this.dialect, this.id, 10)).filter((run) => !running.has(run.id))
    return this.release(strays, () => `Worker ${this.name} claimed the task but never started it (the claim's answer was lost)`)
  }

  private async release(runs: workers.OrphanedRun[], why: (run: workers.OrphanedRun) => string): Promise<number> {
    let released = 0
    for (const run of runs) {
      const error = why(run)
      const ended = await endRun(this.dialect, run, run.attemptsLeft ? { status: 'queued', error, retryAfterSeconds: 0 } : { status: 'failed', error })
      if (ended) {
        released++
        this.o.log(`released ${run.id}: ${error}`)
      }
    }
    return released
  }

  unregister(): Promise<void> {
    return workers.unregisterWorker(this.dialect, this.id)
  }
}
