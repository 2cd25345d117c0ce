import type { EnqueueOptions, InTransaction, Queue } from './queue/queue.js'

/**
 * Typed task references: each reference's function type, so enqueueing checks args at compile time.
 * Types only: the app that enqueues never imports the task modules (`import type`).
 *
 *   import type * as email from './tasks/email.js'
 *   const tasks = defineTasks<TasksOf<typeof email, 'tasks/email'>>()
 *   await tasks.createTask('tasks/email#send', { to: 'a@example.com' })   // args checked
 */
// biome-ignore lint/suspicious/noExplicitAny: any function: a parameter type of unknown would admit only functions of unknown
export type TaskMap = { [reference: string]: (...args: any[]) => unknown }

/** The args a task function takes: its first parameter (an empty object for a function of none). */
export type TaskArgsOf<F> = F extends (...args: infer P) => unknown
  ? P extends []
    ? Record<string, never>
    : P[0]
  : never

/** The task map of one module: `<path>#<export>` for each exported function, `<path>` for its default. */
export type TasksOf<Module, Path extends string> = {
  // biome-ignore lint/suspicious/noExplicitAny: any function, as TaskMap
  [K in keyof Module & string as Module[K] extends (...args: any[]) => unknown
    ? K extends 'default'
      ? Path
      : `${Path}#${K}`
    : never]: Module[K]
}

/** Enqueue options besides the task and its args; `executor` writes in the app's transaction. */
export type TaskOptions = Omit<EnqueueOptions, 'task' | 'args'> & InTransaction

/** Enqueueing through a task map; see defineTasks. */
export interface TypedTasks<M extends TaskMap> {
  /** Enqueues `task` with `args` checked against its function; returns the task's id. */
  createTask<K extends keyof M & string>(task: K, args: TaskArgsOf<M[K]>, options?: TaskOptions): Promise<string>
  /** Enqueues one `task` per args object (Queue.enqueueMany); returns their ids in order. */
  enqueueMany<K extends keyof M & string>(
    task: K,
    args: readonly TaskArgsOf<M[K]>[],
    options?: TaskOptions,
  ): Promise<string[]>
}

/** A typed view of `queue` (by default createTask's) for the task map `M`, a type argument only. */
export function defineTasks<M extends TaskMap>(queue?: Queue | (() => Promise<Queue>)): TypedTasks<M> {
  const resolve = async (): Promise<Queue> =>
    typeof queue === 'function' ? queue() : (queue ?? (await import('./shared-queue.js')).sharedQueue())
  return {
    async createTask(task, args, options) {
      return (await (await resolve()).enqueue({ ...options, task, args })).id
    },
    async enqueueMany(task, args, { executor, ...options } = {}) {
      const items = args.map((a) => ({ ...options, task, args: a }))
      const results = await (await resolve()).enqueueMany(items, { executor })
      return results.map((r) => r.id)
    },
  }
}
