import type { Settings } from '../config.js'
import type { RunEnd } from './outcome.js'
import type { ProcessPool } from './pool.js'
import type { Run } from './run.js'
import type { TaskPolicy } from './task-policy.js'

export interface ExecuteContext {
  pool: ProcessPool
  policy: TaskPolicy
  settings: Pick<Settings, 'root' | 'hooks' | 'taskTimeout'>
  /** The worker was told to stop at once: a run that gets its process now is killed at once. */
  hardStopped(): boolean
}

/**
 * Runs one task in a task process from the pool, its output streamed into the run; never throws. The
 * process goes back to the pool as soon as the run is done (or is dropped, if the run killed it).
 */
export async function executeRun(run: Run, ctx: ExecuteContext): Promise<RunEnd> {
  const { settings } = ctx
  let timer: NodeJS.Timeout | undefined
  try {
    // The policy again, before anything is imported: the row may not have come from `sq enqueue`.
    const refusal = ctx.policy.refusal(run.task.task)
    if (refusal !== undefined) return { kind: 'refused', error: refusal }
    const proc = (run.proc = await ctx.pool.acquire())
    if (run.state === 'lost' || ctx.hardStopped()) proc.kill(run.state === 'lost' ? 'lost' : 'stop', 0)
    if (settings.taskTimeout > 0) timer = setTimeout(() => proc.kill('timeout'), settings.taskTimeout * 1000)
    const { id, task, args } = run.task
    return await proc.run(
      { type: 'run', id, attempt: run.ref.attempt, task, args, root: settings.root, hooks: settings.hooks },
      {
        onOutput: (text) => run.output.append('output', text),
        onLog: (text) => run.output.append('log', text),
        onProgress: (progress) => run.output.setProgress(progress),
      },
    )
  } catch (error) {
    return { kind: 'refused', error: `could not run the task: ${(error as Error).message}` }
  } finally {
    clearTimeout(timer)
    if (run.proc) ctx.pool.release(run.proc)
    // The process may now run another task: a late "lost" for this run must not kill it.
    run.proc = undefined
  }
}
