/**
 * sq's library API. From any Node program:
 *
 *   import { createTask, closeQueue } from 'sq-queue'
 *   const id = await createTask({ task: 'tasks/email#send', args: { to } })
 *
 * `createTask` uses a queue opened on first use from SQ_DATABASE_URL / sq.config.* / ./sq.db;
 * `openQueue()` gives a handle with explicit settings.
 */
import type { Settings } from './config.js'
import { Queue, type EnqueueOptions, type InTransaction } from './queue/queue.js'
import type { QueueState } from './queue/pause.js'

export { Queue, type EnqueueOptions, type InTransaction, type CancelResult } from './queue/queue.js'
export type { BetterSqliteLike, Executor, KyselyLike, QueryClient } from './storage/executor.js'
export type { QueueState } from './queue/pause.js'
export type { WaitOptions } from './queue/wait.js'
export type { ScheduleInfo } from './queue/schedules.js'
export type { ScheduleDef, CatchUp } from './schedule/definition.js'
export type { Settings } from './config.js'
export * from './errors.js'
export * from './types.js'
export { currentTask, type CurrentTask } from './current-task.js'

let shared: Promise<Queue> | undefined

/** The queue `createTask` uses when given none, opened on first use. */
export function sharedQueue(): Promise<Queue> {
  return (shared ??= Queue.open().catch((error) => {
    shared = undefined
    throw error
  }))
}

/** Closes the queue `createTask` opened, so a script can exit. */
export async function closeQueue(): Promise<void> {
  const q = shared
  shared = undefined
  if (q) await (await q).close()
}

/** Opens a queue: settings from `options`, else the environment, sq.config.* and the defaults. */
export function openQueue(options: Partial<Settings> = {}): Promise<Queue> {
  return Queue.open(options)
}

/**
 * Enqueues a task and returns its id. Throws a TypeError when `args` is not a plain object, and an
 * sq error when the reference is malformed, not allowed, its module is missing, or args are too large.
 * With `executor`, the task is written in the app's transaction: it exists if and only if that commits.
 */
export async function createTask(options: EnqueueOptions & InTransaction, queue?: Queue): Promise<string> {
  return (await (queue ?? (await sharedQueue())).enqueue(options)).id
}

/** Enqueues many tasks (Queue.enqueueMany; `chunkSize` 10,000 by default) and returns their ids in order. */
export async function enqueueMany(
  items: readonly EnqueueOptions[],
  { queue, ...rest }: { chunkSize?: number; queue?: Queue } & InTransaction = {},
): Promise<string[]> {
  return (await (queue ?? (await sharedQueue())).enqueueMany(items, rest)).map((r) => r.id)
}

/** Pauses a queue (see Queue.pause), on `queue` or on the queue `createTask` uses. */
export async function pauseQueue(name: string, queue?: Queue): Promise<QueueState> {
  return (queue ?? (await sharedQueue())).pause(name)
}

/** Resumes a paused queue (see Queue.resume), on `queue` or on the queue `createTask` uses. */
export async function resumeQueue(name: string, queue?: Queue): Promise<QueueState> {
  return (queue ?? (await sharedQueue())).resume(name)
}

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
  const resolve = async () => (typeof queue === 'function' ? queue() : (queue ?? sharedQueue()))
  return {
    createTask: async (task, args, options) => createTask({ ...options, task, args }, await resolve()),
    async enqueueMany(task, args, { executor, ...options } = {}) {
      const items = args.map((a) => ({ ...options, task, args: a }))
      return enqueueMany(items, { executor, queue: await resolve() })
    },
  }
}
