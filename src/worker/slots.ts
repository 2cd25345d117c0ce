import type { Settings } from '../config.js'
import { authorizeReference } from '../queue/reference.js'
import { redactSecrets } from '../redact.js'
import type { LocalRuns } from './local-runs.js'
import type { WorkerLog } from './log.js'
import type { RunEnd } from './outcome.js'
import type { ProcessPool } from './pool.js'
import type { Prefetch } from './prefetch.js'
import type { RunRequest } from './protocol.js'
import type { Run } from './run.js'
import type { RunHandlers, TaskProcess } from './task-process.js'

/** How long the policy's verdict on a reference is reused (it stats files), and for how many at most. */
const POLICY_CACHE_MS = 1000
const POLICY_CACHE_SIZE = 1000

export interface SlotsContext {
  concurrency: number
  /** Many runs share each task process (`--tasks-per-process` above 1). */
  shared: boolean
  runs: LocalRuns
  prefetch: Prefetch
  pool: ProcessPool
  settings: Pick<Settings, 'root' | 'hooks' | 'taskTimeout' | 'allowedTasks'>
  /** The worker is stopping: runs handed now are asked back at once, but for the one begun. */
  stopping(): boolean
  /** The worker was told to stop at once: a run that begins now is killed at once. */
  hardStopped(): boolean
  began(run: Run): void
  /** A handed run ended: its verdict goes to the writer, or, never begun, it is taken back. */
  ended(run: Run, end: RunEnd | { kind: 'unstarted' }): Promise<void>
  /** Runs were handed or a slot freed: the claim loop may want to refill. */
  changed(): void
  log: WorkerLog
}

/**
 * A worker's `concurrency` slots, each a batch of runs in a task process, free once the process is done with
 * it. One run at a time, a slot is a process; shared, a process serves up to `--tasks-per-process` slots.
 */
export class Slots {
  private busy = 0
  /** Why the policy refuses a task reference; undefined when it may run. */
  private readonly refusal: (ref: string) => string | undefined
  /** Batches in a process, and ended runs whose verdict is not yet with the writer. */
  private readonly finishing = new Set<Promise<void>>()

  constructor(private readonly ctx: SlotsContext) {
    this.refusal = taskPolicy(ctx.settings.root, ctx.settings.allowedTasks)
  }

  get free(): number {
    return this.ctx.concurrency - this.busy
  }

  /** No run is between its hand-over and the verdict writer. */
  get settled(): boolean {
    return this.finishing.size === 0
  }

  fill(): void {
    const { ctx } = this
    let handed = false
    while (!ctx.stopping() && this.busy < ctx.concurrency && ctx.runs.waitingCount > 0) {
      // Shared task processes take one run per slot: a run waiting behind another would need a slot of its own.
      const batch = ctx.runs.hand(ctx.shared ? 1 : ctx.prefetch.batch(ctx.runs.waitingCount, this.free))
      this.busy++
      handed = true
      this.track(
        this.execute(batch).finally(() => {
          this.busy--
          this.fill()
          ctx.changed()
        }),
      )
    }
    if (handed) ctx.changed()
  }

  async settle(): Promise<void> {
    while (this.finishing.size > 0) await Promise.all(this.finishing)
  }

  /** Runs a batch in one task process from the pool; resolves once the process is back in the pool. */
  private async execute(batch: Run[]): Promise<void> {
    const { ctx } = this
    const runnable = batch.filter((run) => {
      const refusal = this.refusal(run.task.task)
      if (refusal !== undefined) this.end(run, { kind: 'refused', error: refusal })
      return refusal === undefined
    })
    if (runnable.length === 0) return
    const proc = await ctx.pool.acquire().catch((error: Error) => {
      for (const run of runnable) this.end(run, { kind: 'refused', error: `could not run the task: ${error.message}` })
    })
    if (!proc) return
    // Lost while the process was being found: not sent at all; nor what the process has no room for.
    const sent = runnable.filter((run) => run.state === 'handed').slice(0, Math.max(1, ctx.pool.room(proc)))
    for (const run of runnable) if (!sent.includes(run)) this.end(run, { kind: 'unstarted' })
    const handed = sent.map((run) => handedRun(run, proc, ctx))
    const results = proc.run(handed)
    // The worker began to stop while the process was being found: only the first run, begun, goes on.
    if (ctx.stopping()) proc.retract(sent.filter((run) => run.state === 'handed').map((run) => run.id))
    await Promise.all(
      sent.map(async (run, i) => {
        const end = await results[i]!
        handed[i]!.disarm()
        // The process may now run another task: a late "lost" for this run must not kill it.
        run.proc = undefined
        this.end(run, end)
      }),
    )
    ctx.pool.release(proc)
  }

  /** Hands the run's end to `ended`, on a later tick. */
  private end(run: Run, end: RunEnd | { kind: 'unstarted' }): void {
    this.track(Promise.resolve(end).then((end) => this.ctx.ended(run, end)))
  }

  private track(work: Promise<void>): void {
    // Nothing may reject here unhandled: that would end the worker, and every run with it.
    const tracked = work.catch((error: Error) => this.ctx.log(`worker error: ${redactSecrets(error.message)}`))
    this.finishing.add(tracked)
    void tracked.finally(() => this.finishing.delete(tracked))
  }
}

/** The allowlist and root, checked again before any import (a row may not come from `sq enqueue`), cached. */
function taskPolicy(root: string, allowedTasks: string[] | null): (ref: string) => string | undefined {
  const verdicts = new Map<string, { at: number; refusal: string | undefined }>()
  return (ref) => {
    const now = Date.now()
    const cached = verdicts.get(ref)
    if (cached && now - cached.at < POLICY_CACHE_MS) return cached.refusal
    let refusal: string | undefined
    try {
      authorizeReference(ref, root, allowedTasks)
    } catch (error) {
      refusal = (error as Error).message
    }
    if (verdicts.size >= POLICY_CACHE_SIZE) verdicts.clear()
    verdicts.set(ref, { at: now, refusal })
    return refusal
  }
}

/** The run's request; what the process tells of the run goes into it; its timeout counts from its start. */
function handedRun(run: Run, proc: TaskProcess, ctx: SlotsContext) {
  run.proc = proc
  let timer: NodeJS.Timeout | undefined
  const { id, attempts: attempt, task, args } = run.task
  const { root, hooks, taskTimeout } = ctx.settings
  const request: RunRequest = { type: 'run', id, attempt, task, args, root, hooks }
  const handlers: RunHandlers = {
    onStart: () => {
      ctx.began(run)
      if (ctx.hardStopped()) proc.kill('stop', 0)
      else if (run.state === 'lost') proc.stop(id, 'lost')
      if (taskTimeout > 0) timer = setTimeout(() => proc.stop(id, 'timeout'), taskTimeout * 1000)
    },
    onDone: () => run.processDone(),
    onOutput: (text) => run.output.append('output', text),
    onLog: (text) => run.output.append('log', text),
    onProgress: (progress) => run.output.setProgress(progress),
  }
  return { request, handlers, disarm: () => clearTimeout(timer) }
}
