import os from 'node:os'
import { randomUUID } from 'node:crypto'
import type { Backend } from '../storage/backend.js'
import { releaseUnstarted, requeueUnstarted } from '../storage/run-release.js'
import { endRun } from '../storage/run-verdict.js'
import * as workers from '../storage/worker-repository.js'
import type { WorkerOptions } from './worker.js'

/** How far the clocks' measured offset may wander before it is measured anew. */
const CLOCK_TOLERANCE_MS = 100

/** Workers woken beyond a notification's count of tasks (wakes). */
const SPARE_WAKERS = 1

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
   * When (performance.now()) this worker may first judge others dead. After an outage or a freeze all beats
   * are stale alike: a worker whose own beats did not succeed waits a whole timeout as the others beat again.
   */
  private rescuesFrom = 0
  /** The live workers as of the last heartbeat, this one included: who wakes for a notification (wakes). */
  private peers: workers.Peer[] = []
  private lastBeatAt: number | undefined

  /** Database clock minus this host's clock, ms, and the round trip of the sample it came from. */
  private clock: { offsetMs: number; roundTripMs: number } | undefined

  /** A time of this host's clock (Date.now()) on the database's clock, in which records are written. */
  databaseTime(localMs: number): number {
    return Math.round(localMs + (this.clock?.offsetMs ?? 0))
  }

  /**
   * Measures the clocks' offset from `read` (the database's time), keeping the sample of the shortest round
   * trip unless a new one is off by more than CLOCK_TOLERANCE_MS: a stable offset keeps runs in order.
   */
  private async timed(read: () => Promise<number | null>): Promise<number | null> {
    const [before, started] = [Date.now(), performance.now()]
    const database = await read()
    const [after, roundTripMs] = [Date.now(), performance.now() - started]
    if (database === null) return null
    // Not rounded (a whole ms of error skews every record); Date.now() drops half a ms on average: add it back.
    const offsetMs = database - ((before + after) / 2 + 0.5)
    const known = this.clock
    if (!known || roundTripMs < known.roundTripMs || Math.abs(offsetMs - known.offsetMs) > CLOCK_TOLERANCE_MS) {
      this.clock = { offsetMs, roundTripMs }
    }
    return database
  }

  async register(): Promise<void> {
    this.lastBeatAt = undefined
    this.rescuesFrom = performance.now() + this.options.heartbeatTimeout * 1000
    for (let i = this.clock ? 1 : 5; i > 0; i--) await this.timed(() => workers.databaseTime(this.backend))
    await workers.registerWorker(this.backend, {
      id: this.id,
      name: this.name,
      host: this.host,
      pid: process.pid,
      queues: this.options.queues,
      concurrency: this.options.concurrency,
    })
    // Who else serves the queues, before the first notification comes (wakes).
    this.peers = (await workers.survey(this.backend, this.options.heartbeatTimeout)).live
  }

  /** Beats (its round trip also samples the clocks), then reads the others' state, and rescues if due. */
  async beat(running: number): Promise<void> {
    if ((await this.timed(() => workers.heartbeat(this.backend, this.id, running))) === null) {
      // Another worker judged this one dead and failed its tasks (their runs will be stopped as lost).
      this.options.log(`worker ${this.name} was presumed dead by another worker; registering again`)
      await this.register()
    }
    // A gap of two intervals and more since the last beat was an outage or a freeze.
    this.holdOffAfterSilence(this.lastBeatAt ?? Number.NEGATIVE_INFINITY)
    this.lastBeatAt = performance.now()
    const { live, rescueDue } = await workers.survey(this.backend, this.options.heartbeatTimeout)
    this.peers = live
    if (rescueDue) await this.rescueOrphans()
  }

  /**
   * What worker `id` (this one by default) does for `sq_queued`'s payload, so a task costs a bounded number of
   * statements however many workers idle. '' (a hint, a reconnection): look. `queue count`: of the workers
   * serving the queue with a free slot at their last heartbeat, by id, the first `count` claim, the next
   * SPARE_WAKERS look (for stale entries), the rest wait. A payload without a count wakes every one.
   * The host's relay asks it for the other workers (pg-relay.ts), so only those it wakes are woken.
   */
  wakes(payload: string, id: string = this.id): 'claim' | 'look' | undefined {
    if (payload === '') return 'look'
    const [queue = '', counted] = payload.split(' ')
    const queues = id === this.id ? this.options.queues : this.peers.find((p) => p.id === id)?.queues
    if (queues && !queues.includes(queue)) return undefined
    const count = counted === undefined ? Number.POSITIVE_INFINITY : Number(counted)
    const free = (p: workers.Peer) => p.id < id && p.running < p.concurrency && p.queues.includes(queue)
    const rank = this.peers.filter(free).length
    return rank < count ? 'claim' : rank < count + SPARE_WAKERS ? 'look' : undefined
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

  /** Gives back, uncharged, runs the database gives to this worker but it does not `know` (a claim's lost answer). */
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
