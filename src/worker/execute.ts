import type { Settings } from '../config.js'
import type { RunEnd } from './outcome.js'
import type { ProcessPool } from './pool.js'
import type { RunRequest } from './protocol.js'
import type { Run } from './run.js'
import type { TaskPolicy } from './task-policy.js'
import type { RunHandlers, TaskProcess } from './task-process.js'

export interface ExecuteContext {
  pool: ProcessPool
  policy: TaskPolicy
  settings: Pick<Settings, 'root' | 'hooks' | 'taskTimeout'>
  /** The worker is stopping: runs handed now are asked back at once, but for the one begun. */
  stopping(): boolean
  /** The worker was told to stop at once: a run that begins now is killed at once. */
  hardStopped(): boolean
  /** The process began the run. */
  began(run: Run): void
}

/** How a handed run ended: a verdict's worth, or never begun (it goes back to the local queue). */
export type BatchEnd = RunEnd | { kind: 'unstarted' }

/**
 * Runs a batch of tasks in one task process from the pool, one after another, each one's output
 * streamed into its run; never throws. Each run's timeout counts from its own start. The process goes
 * back to the pool once every run of the batch has ended (or is dropped, if a run killed it).
 */
export function executeBatch(runs: Run[], ctx: ExecuteContext): { ends: Promise<BatchEnd>[]; released: Promise<void> } {
  // The policy again, before anything is imported: the row may not have come from `sq enqueue`.
  const refusals = runs.map((run) => ctx.policy.refusal(run.task.task))
  const runnable = runs.filter((_, i) => refusals[i] === undefined)
  const { results, released } = handOver(runnable, ctx)
  const ends = runs.map((run, i) => {
    const refusal = refusals[i]
    return refusal !== undefined ? Promise.resolve<BatchEnd>({ kind: 'refused', error: refusal }) : results.get(run)!
  })
  return { ends, released }
}

function handOver(runs: Run[], ctx: ExecuteContext): { results: Map<Run, Promise<BatchEnd>>; released: Promise<void> } {
  const results = new Map<Run, Promise<BatchEnd>>()
  if (runs.length === 0) return { results, released: Promise.resolve() }
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => (release = resolve))
  const handed = ctx.pool.acquire().then((proc) => {
    // Lost while the process was being found: not sent at all; nor what the process has no room for.
    const sent = runs.filter((run) => run.state === 'handed').slice(0, Math.max(1, ctx.pool.room(proc)))
    const timers = new Map<Run, NodeJS.Timeout>()
    const ends = proc.run(
      sent.map((run) => ({ request: requestOf(run, ctx), handlers: handlersOf(run, proc, ctx, timers) })),
    )
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
  })
  runs.forEach((run, i) => {
    results.set(
      run,
      handed.then(
        (settled) => settled[i]!,
        (error: Error): BatchEnd => ({ kind: 'refused', error: `could not run the task: ${error.message}` }),
      ),
    )
  })
  handed.catch(release)
  return { results, released }
}

function requestOf(run: Run, { settings }: ExecuteContext): RunRequest {
  const { id, task, args } = run.task
  return { type: 'run', id, attempt: run.task.attempts, task, args, root: settings.root, hooks: settings.hooks }
}

/** What the process tells of the run goes into it; its timeout is armed when it begins. */
function handlersOf(run: Run, proc: TaskProcess, ctx: ExecuteContext, timers: Map<Run, NodeJS.Timeout>): RunHandlers {
  run.proc = proc
  const timeoutSeconds = ctx.settings.taskTimeout
  return {
    onStart: () => {
      ctx.began(run)
      if (run.state === 'lost' || ctx.hardStopped()) proc.kill(run.state === 'lost' ? 'lost' : 'stop', 0)
      if (timeoutSeconds > 0)
        timers.set(
          run,
          setTimeout(() => proc.kill('timeout'), timeoutSeconds * 1000),
        )
    },
    onDone: () => run.processDone(),
    onOutput: (text) => run.output.append('output', text),
    onLog: (text) => run.output.append('log', text),
    onProgress: (progress) => run.output.setProgress(progress),
  }
}
