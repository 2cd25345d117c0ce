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

// On globalThis under a registered symbol: the task process and the task's own `import 'sq-queue'` may
// load two copies of this module (dist/bundle/ and dist/src/), and both must see the same runs.
const STORE = Symbol.for('sq-queue.currentTask')
type Holder = { [STORE]?: AsyncLocalStorage<CurrentTask> }

/** The storage the task process runs each task in. */
export function runContext(): AsyncLocalStorage<CurrentTask> {
  const holder = globalThis as Holder
  return (holder[STORE] ??= new AsyncLocalStorage<CurrentTask>())
}

/**
 * The run the calling code is part of, from inside a task function (or a hook, or anything they call,
 * awaited or not): `const { id, attempt, signal } = currentTask()`. Throws outside a worker's task.
 */
export function currentTask(): CurrentTask {
  const run = runContext().getStore()
  if (!run) throw new Error('currentTask() is only available inside a task that an sq worker runs')
  return run
}
