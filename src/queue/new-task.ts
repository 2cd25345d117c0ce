import type { Settings } from '../config.js'
import { UsageError } from '../errors.js'
import type { NewTask } from '../storage/task-repository.js'
import { randomUuid } from '../uuid.js'
import { serializeArgs } from './args.js'
import { checkQueueName } from './pause.js'
import { authorizeReference } from './reference.js'
import { TASK_DEFAULTS } from '../defaults.js'

export interface EnqueueOptions {
  /** `<module>#<export>`, relative to the root. */
  task: string
  /** A plain, JSON-serialisable object: the one argument the task function receives. */
  args?: unknown
  /** While a task with this key is queued or running, enqueueing returns its id and adds nothing. */
  key?: string | null
  /** Not run before this many seconds from now. */
  delaySeconds?: number
  /** Not run before this time. */
  at?: Date
  /** Higher runs first; default 0. */
  priority?: number
  /** Default `default`. */
  queue?: string
  /** Runs allowed in all, retries with backoff included; default 1. */
  maxAttempts?: number
}

/**
 * Enqueue options checked into a task ready to insert. A reference is authorised once per queue handle (an app
 * enqueueing in a loop stats its module once); the worker checks again.
 */
export function newTaskCheck(settings: Settings): (o: EnqueueOptions) => NewTask {
  const authorized = new Set<string>()
  return (o) => {
    if (typeof o?.task !== 'string')
      throw new TypeError('task must be a string reference like "path/to/module#exportName"')
    // Only a missing args means {}: null is a non-object and refused like the seed's list.
    const argsJson = serializeArgs(o.args === undefined ? {} : o.args, settings.maxArgsSize)
    if (!authorized.has(o.task)) {
      authorizeReference(o.task, settings.root, settings.allowedTasks)
      if (authorized.size >= 1000) authorized.clear()
      authorized.add(o.task)
    }
    const maxAttempts = o.maxAttempts ?? TASK_DEFAULTS.maxAttempts
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
      throw new UsageError(`max attempts must be a whole number ≥ 1, got ${maxAttempts}`)
    const priority = o.priority ?? TASK_DEFAULTS.priority
    if (!Number.isInteger(priority)) throw new UsageError(`priority must be a whole number, got ${priority}`)
    const queue = o.queue ?? TASK_DEFAULTS.queue
    checkQueueName(queue)
    if (o.key === '') throw new UsageError('key must not be empty')
    return {
      id: randomUuid(),
      task: o.task.trim(),
      argsJson,
      queue,
      priority,
      maxAttempts,
      key: o.key ?? null,
      runAt: o.at ? { at: o.at.toISOString() } : { afterSeconds: o.delaySeconds ?? 0 },
    }
  }
}
