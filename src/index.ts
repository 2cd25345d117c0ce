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
import { sharedQueue } from './shared-queue.js'

export { Queue, type EnqueueOptions, type InTransaction, type CancelResult } from './queue/queue.js'
export type { BetterSqliteLike, Executor, KyselyLike, QueryClient } from './storage/executor.js'
export type { QueueState } from './queue/pause.js'
export { closeQueue, sharedQueue } from './shared-queue.js'
export type { WaitOptions } from './queue/wait.js'
export type { ScheduleInfo } from './queue/schedules.js'
export type { ScheduleDef, CatchUp } from './schedule/definition.js'
export type { Settings } from './config.js'
export * from './errors.js'
export * from './types.js'
export { defineTasks, type TaskArgsOf, type TaskMap, type TaskOptions, type TasksOf, type TypedTasks } from './typed.js'

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
  o: { chunkSize?: number; queue?: Queue } & InTransaction = {},
): Promise<string[]> {
  const { queue, ...rest } = o
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
