import type { Run } from './run.js'

/**
 * The runs a worker holds: claimed and waiting in its local queue (claim order), and running in its
 * task processes. One place moves a run between the two and drops the ones it lost.
 */
export class LocalRuns {
  private waiting: Run[] = []
  private readonly running = new Map<string, Run>()

  get waitingCount(): number {
    return this.waiting.length
  }

  get runningCount(): number {
    return this.running.size
  }

  get empty(): boolean {
    return this.waiting.length === 0 && this.running.size === 0
  }

  /** Does this worker hold the run, waiting or running? */
  holds(id: string): boolean {
    return this.running.has(id) || this.waiting.some((r) => r.id === id)
  }

  add(run: Run): void {
    this.waiting.push(run)
  }

  /** The next waiting run, now running; undefined when none waits. */
  start(): Run | undefined {
    const run = this.waiting.shift()
    if (!run) return undefined
    run.state = 'running'
    run.startedAt = Date.now()
    this.running.set(run.id, run)
    return run
  }

  /** The run's process is done. */
  end(run: Run): void {
    run.endedAt = Date.now()
    this.running.delete(run.id)
  }

  runs(): Run[] {
    return [...this.running.values()]
  }

  /** Runs that still own their task, as far as this worker knows: waiting or running. */
  live(): Run[] {
    return [...this.waiting, ...this.running.values()].filter((r) => r.state === 'waiting' || r.state === 'running')
  }

  /** Running runs whose start is not yet in the database. */
  unrecordedStarts(): Run[] {
    return this.runs().filter((r) => r.state === 'running' && !r.startRecorded)
  }

  /** Takes every waiting run out of the local queue, marked lost (they are given back or dropped). */
  takeWaiting(): Run[] {
    const taken = this.waiting.splice(0)
    for (const r of taken) r.state = 'lost'
    return taken
  }

  /** Drops the waiting runs whose id is in `lost` (returned) and kills the running ones. */
  lose(lost: Set<string>): Run[] {
    const dropped = this.waiting.filter((r) => lost.has(r.id))
    this.waiting = this.waiting.filter((r) => !lost.has(r.id))
    for (const r of dropped) r.state = 'lost'
    for (const r of this.running.values()) if (lost.has(r.id)) loseRunning(r)
    return dropped
  }
}

/** A running run lost its task (cancel, requeue, rescue): kill its process; it gets no verdict. */
export function loseRunning(run: Run): void {
  if (run.state === 'lost') return
  run.state = 'lost'
  run.proc?.kill('lost')
}
