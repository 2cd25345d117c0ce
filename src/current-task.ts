import { AsyncLocalStorage } from 'node:async_hooks'

/** The run a task function is in, as `currentTask()` tells it. */
export interface CurrentTask {
  /** The task's id. */
  readonly id: string
  /** Its task reference (`tasks/email#send`). */
  readonly task: string
  /** Which attempt this run is, from 1. */
  readonly attempt: number
  /**
   * Aborted when the worker wants the run to stop: its timeout ran out, or it was cancelled. A task that
   * stops soon after (throws, returns) keeps its task process; one that does not has it killed.
   */
  readonly signal: AbortSignal
}

/** Where the task process keeps the run its code is part of: set for the run's span, read by currentTask(). */
export interface RunContext {
  run<T>(task: CurrentTask, fn: () => Promise<T>): Promise<T>
  getStore(): CurrentTask | undefined
}

/**
 * One run at a time, the run the process is on is the only one: a slot, set as each run begins. (AsyncLocalStorage
 * would switch on Node 20's promise hooks, a tax on every promise of the process: a tenth of no-op throughput.)
 * Code a run left behind (a timer) sees that run until the next begins, then the next.
 */
class OneRunAtATime implements RunContext {
  private current: CurrentTask | undefined
  run<T>(task: CurrentTask, fn: () => Promise<T>): Promise<T> {
    this.current = task
    return fn()
  }
  getStore(): CurrentTask | undefined {
    return this.current
  }
}

// On globalThis under a registered symbol: the task process and the task's own `import 'sq-queue'` may
// load two copies of this module (dist/bundle/ and dist/src/), and both must see the same runs.
const STORE = Symbol.for('sq-queue.currentTask')
type Holder = { [STORE]?: RunContext }

/** Set once by the task process: each run in its own async context when runs share the process, else a slot. */
export function installRunContext(shared: boolean): RunContext {
  const context = shared ? new AsyncLocalStorage<CurrentTask>() : new OneRunAtATime()
  ;(globalThis as Holder)[STORE] = context
  return context
}

/**
 * The run the calling code is part of, from inside a task function (or a hook, or anything they call,
 * awaited or not): `const { id, attempt, signal } = currentTask()`. Throws outside a worker's task.
 */
export function currentTask(): CurrentTask {
  const run = (globalThis as Holder)[STORE]?.getStore()
  if (!run) throw new Error('currentTask() is only available inside a task that an sq worker runs')
  return run
}
