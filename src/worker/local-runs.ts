import type { Run } from './run.js'

/**
 * The runs a worker holds: waiting in its local queue (claim order), and handed to its task processes
 * (waiting there, or running). The one place that moves a run between them.
 */
export class LocalRuns {
  private waiting: Run[] = []
  /** Claim order, kept for runs that come back to the local queue. */
  private readonly order = new WeakMap<Run, number>()
  private added = 0
  private readonly inProcesses = new Map<string, Run>()
  /** Runs whose process is done with them, until their verdict is with the VerdictWriter. */
  private readonly ending = new Set<string>()

  get waitingCount(): number {
    return this.waiting.length
  }

  get runningCount(): number {
    return this.runs().filter((r) => r.state === 'running').length
  }

  get empty(): boolean {
    return this.waiting.length === 0 && this.inProcesses.size === 0
  }

  /** Does this worker hold the run, waiting, handed, running or ending? */
  holds(id: string): boolean {
    return this.inProcesses.has(id) || this.ending.has(id) || this.waiting.some((r) => r.id === id)
  }

  add(run: Run): void {
    this.order.set(run, this.added++)
    this.waiting.push(run)
  }

  /** Up to `count` waiting runs, in claim order, now handed to a task process. */
  hand(count: number): Run[] {
    const batch = this.waiting.splice(0, count)
    for (const run of batch) {
      run.handed()
      this.inProcesses.set(run.id, run)
    }
    return batch
  }

  /** The run's process is done with it; the worker holds it until its verdict is with the writer. */
  end(run: Run): void {
    run.processDone()
    this.inProcesses.delete(run.id)
    this.ending.add(run.id)
  }

  forget(run: Run): void {
    this.ending.delete(run.id)
  }

  /** A handed run its process never began: back in the local queue, in claim order (true), or dropped. */
  takeBack(run: Run, keep: boolean): boolean {
    this.inProcesses.delete(run.id)
    if (!run.takenBack(keep)) return false
    const seq = this.order.get(run)!
    const at = this.waiting.findIndex((r) => this.order.get(r)! > seq)
    this.waiting.splice(at === -1 ? this.waiting.length : at, 0, run)
    return true
  }

  /** Runs in task processes, begun or not. */
  runs(): Run[] {
    return [...this.inProcesses.values()]
  }

  /** Runs that still own their task, as far as this worker knows. */
  live(): Run[] {
    return [...this.waiting, ...this.inProcesses.values()].filter(
      (r) => r.state === 'waiting' || r.state === 'handed' || r.state === 'running',
    )
  }

  unrecordedStarts(): Run[] {
    return this.runs().filter((r) => r.state === 'running' && !r.startRecorded)
  }

  /** Takes every waiting run out of the local queue, marked lost (to be given back). */
  takeWaiting(): Run[] {
    const taken = this.waiting.splice(0)
    for (const r of taken) r.lose()
    return taken
  }

  /** Asks the task processes for every handed run they have not begun (they come back unstarted). */
  retractHanded(): void {
    retract(this.runs().filter((r) => r.state === 'handed'))
  }

  /** Asks back the runs batched behind one running since `since`: another process may take them sooner. */
  retractStuck(since: number): void {
    let stuck: Set<Run['proc']> | undefined
    for (const r of this.inProcesses.values()) {
      if (r.state === 'running' && r.startedAt <= since) (stuck ??= new Set()).add(r.proc)
    }
    if (stuck) retract(this.runs().filter((r) => r.state === 'handed' && stuck.has(r.proc)))
  }

  /** Drops the waiting runs whose id is in `lost` (returned), retracts the handed ones, kills the running. */
  lose(lost: Set<string>): Run[] {
    const dropped = this.waiting.filter((r) => lost.has(r.id))
    this.waiting = this.waiting.filter((r) => !lost.has(r.id))
    for (const r of dropped) r.lose()
    for (const r of this.inProcesses.values()) if (lost.has(r.id)) loseRunning(r)
    return dropped
  }
}

/** A run in a task process lost its task: a running one is asked to stop (then killed), a handed one asked back. */
export function loseRunning(run: Run): void {
  const was = run.lose()
  if (was === 'handed') retract([run])
  else if (was !== 'lost') run.proc?.stop(run.id, 'lost')
}

function retract(runs: Run[]): void {
  const byProcess = new Map<NonNullable<Run['proc']>, string[]>()
  for (const run of runs) {
    // Asked once: the process answers for every run it was asked about.
    if (!run.proc || run.retracted) continue
    run.retracted = true
    byProcess.set(run.proc, [...(byProcess.get(run.proc) ?? []), run.id])
  }
  for (const [proc, ids] of byProcess) proc.retract(ids)
}
