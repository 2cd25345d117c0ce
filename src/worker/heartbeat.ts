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
    let rescued = 0
    for (const orphan of orphans) {
      const error = `Worker ${orphan.worker ?? 'unknown'} stopped heartbeating (none for over ${this.o.heartbeatTimeout}s); task marked ${orphan.attemptsLeft ? 'for retry' : 'failed'} by worker ${this.name}`
      const ended = await endRun(this.dialect, orphan, orphan.attemptsLeft
        ? { status: 'queued', error, retryAfterSeconds: 0 }
        : { status: 'failed', error })
      if (ended) {
        rescued++
        this.o.log(`rescued ${orphan.id}: ${error}`)
      }
    }
    await workers.deleteDeadWorkers(this.dialect, this.o.heartbeatTimeout)
    return rescued
  }

  unregister(): Promise<void> {
    return workers.unregisterWorker(this.dialect, this.id)
  }
}
