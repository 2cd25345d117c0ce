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

/** How long the policy's verdict on a reference is reused (it stats files; the child caches imports). */
const POLICY_CACHE_MS = 1000
/** References remembered at most; past it the cache starts over. */
const POLICY_CACHE_SIZE = 1000

export interface SlotsContext {
  concurrency: number
  runs: LocalRuns
  prefetch: Prefetch
  pool: ProcessPool
  /** Why the policy refuses a task reference; undefined when it may run (taskPolicy). */
  refusal(ref: string): string | undefined
  settings: Pick<Settings, 'root' | 'hooks' | 'taskTimeout'>
  /** The worker is stopping: runs handed now are asked back at once, but for the one begun. */
  stopping(): boolean
  /** The worker was told to stop at once: a run that begins now is killed at once. */
  hardStopped(): boolean
  began(run: Run): void
  /** A handed run ended: its verdict goes to the writer, or, never begun, it is taken back. */
  ended(run: Run, end: BatchEnd): Promise<void>
  /** Runs were handed or a slot freed: the claim loop may want to refill. */
  changed(): void
  log: WorkerLog
}

/**
 * A worker's `concurrency` slots, each a task process with a batch of runs: waiting runs are handed to
 * them, in batches, while one is free, and each run's end goes to `ended`. A slot frees the moment its
 * process is done with its batch.
 */
export class Slots {
  private busy = 0
  /** Runs whose process is done, before their verdict is handed to the writer. */
  private readonly finishing = new Set<Promise<void>>()

  constructor(private readonly ctx: SlotsContext) {}

  get free(): number {
    return this.ctx.concurrency - this.busy
  }

  /** No run is between its process's end and the verdict writer. */
  get settled(): boolean {
    return this.finishing.size === 0
  }

  fill(): void {
    const { ctx } = this
    let handed = false
    while (!ctx.stopping() && this.busy < ctx.concurrency && ctx.runs.waitingCount > 0) {
      const batch = ctx.runs.hand(ctx.prefetch.batch(ctx.runs.waitingCount, this.free))
      this.busy++
      handed = true
      const { ends, released } = executeBatch(batch, ctx)
      batch.forEach((run, i) => {
        // Nothing may reject here unhandled: that would end the worker, and every run with it.
        const finished = ends[i]!.then((end) => ctx.ended(run, end)).catch((error: Error) =>
          ctx.log(`worker error: ${redactSecrets(error.message)}`),
        )
        this.finishing.add(finished)
        void finished.finally(() => this.finishing.delete(finished))
      })
      void released.then(() => {
        this.busy--
        this.fill()
        ctx.changed()
      })
    }
    if (handed) ctx.changed()
  }

  /** Waits until every ended run's verdict is with the writer. */
  async settle(): Promise<void> {
    while (this.finishing.size > 0) await Promise.all(this.finishing)
  }
}

/** How a handed run ended: a verdict's worth, or never begun (it goes back to the local queue). */
export type BatchEnd = RunEnd | { kind: 'unstarted' }

/**
 * The allowlist and root, checked again at run time: a row may not have come from `sq enqueue`. The
 * check runs before anything is imported, and its verdict on a reference is cached for a second.
 */
export function taskPolicy(root: string, allowedTasks: string[] | null): SlotsContext['refusal'] {
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

/**
 * Runs a batch of tasks in one task process from the pool, one after another, each one's output
 * streamed into its run; never throws. Each run's timeout counts from its own start. The process goes
 * back to the pool once every run of the batch has ended (or is dropped, if a run killed it).
 */
export function executeBatch(runs: Run[], ctx: SlotsContext): { ends: Promise<BatchEnd>[]; released: Promise<void> } {
  const refusals = runs.map((run) => ctx.refusal(run.task.task))
  const runnable = runs.filter((_, i) => refusals[i] === undefined)
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => (release = resolve))
  const handed =
    runnable.length === 0 ? Promise.resolve([]) : ctx.pool.acquire().then((p) => handOver(runnable, p, ctx, release))
  if (runnable.length === 0) release()
  handed.catch(release)
  const ends = runs.map((run, i): Promise<BatchEnd> => {
    const refusal = refusals[i]
    if (refusal !== undefined) return Promise.resolve({ kind: 'refused', error: refusal })
    return handed.then(
      (settled) => settled[runnable.indexOf(run)]!,
      (error: Error) => ({ kind: 'refused', error: `could not run the task: ${error.message}` }),
    )
  })
  return { ends, released }
}

/** Sends the runs to the process: each run's end; the process goes back to the pool once all have ended. */
function handOver(runs: Run[], proc: TaskProcess, ctx: SlotsContext, release: () => void): Promise<BatchEnd>[] {
  // Lost while the process was being found: not sent at all; nor what the process has no room for.
  const sent = runs.filter((run) => run.state === 'handed').slice(0, Math.max(1, ctx.pool.room(proc)))
  const timers = new Map<Run, NodeJS.Timeout>()
  const ends = proc.run(sent.map((run) => handedRun(run, proc, ctx, timers)))
  // The worker began to stop while the process was being found: only the first run, begun, goes on.
  if (ctx.stopping()) proc.retract(sent.filter((run) => run.state === 'handed').map((run) => run.id))
  const settled = ends.map((end, i) =>
    end.then((result) => {
      const run = sent[i]!
      clearTimeout(timers.get(run))
      // The process may now run another task: a late "lost" for this run must not kill it.
      run.proc = undefined
      return result
    }),
  )
  void Promise.all(settled).then(() => {
    ctx.pool.release(proc)
    release()
  })
  return runs.map((run) => settled[sent.indexOf(run)] ?? Promise.resolve<BatchEnd>({ kind: 'unstarted' }))
}
/** The run's request; what the process tells of the run goes into it; its timeout is armed when it begins. */
function handedRun(run: Run, proc: TaskProcess, ctx: SlotsContext, timers: Map<Run, NodeJS.Timeout>) {
  run.proc = proc
  const { id, attempts: attempt, task, args } = run.task
  const request: RunRequest = {
    type: 'run',
    id,
    attempt,
    task,
    args,
    root: ctx.settings.root,
    hooks: ctx.settings.hooks,
  }
  const timeoutMs = ctx.settings.taskTimeout * 1000
  const handlers: RunHandlers = {
    onStart: () => {
      ctx.began(run)
      if (run.state === 'lost' || ctx.hardStopped()) proc.kill(run.state === 'lost' ? 'lost' : 'stop', 0)
      if (timeoutMs > 0)
        timers.set(
          run,
          setTimeout(() => proc.kill('timeout'), timeoutMs),
        )
    },
    onDone: () => run.processDone(),
    onOutput: (text) => run.output.append('output', text),
    onLog: (text) => run.output.append('log', text),
    onProgress: (progress) => run.output.setProgress(progress),
  }
  return { request, handlers }
}
