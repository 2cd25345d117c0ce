import type { Settings } from '../config.js'
import { UsageError } from '../errors.js'
import type { NewTask } from '../storage/task-repository.js'
import { randomUuid } from '../uuid.js'
import { serializeArgs } from './args.js'
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

/** Turns enqueue options into a task ready to insert: args serialised, reference authorised, options in range. */
export class NewTaskCheck {
  private readonly authorized = new Set<string>()

  constructor(private readonly settings: Settings) {}

  prepare(o: EnqueueOptions): NewTask {
    if (typeof o?.task !== 'string')
      throw new TypeError('task must be a string reference like "path/to/module#exportName"')
    // Only a missing args means {}: null is a non-object and refused like the seed's list.
    const argsJson = serializeArgs(o.args === undefined ? {} : o.args, this.settings.maxArgsSize)
    this.authorize(o.task)
    const maxAttempts = o.maxAttempts ?? TASK_DEFAULTS.maxAttempts
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
      throw new UsageError(`max attempts must be a whole number ≥ 1, got ${maxAttempts}`)
    const priority = o.priority ?? TASK_DEFAULTS.priority
    if (!Number.isInteger(priority)) throw new UsageError(`priority must be a whole number, got ${priority}`)
    const queue = o.queue ?? TASK_DEFAULTS.queue
    if (!/^[\w.-]+$/.test(queue)) throw new UsageError(`queue name "${queue}" may hold only letters, digits, _ . and -`)
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

  /**
   * Checks a reference's form, the allowlist and that its module exists, once per reference per queue
   * handle: an app enqueueing the same task in a loop stats its module once, not every time. (A module
   * deleted later fails its task when it runs, with an error that names it; the worker checks again.)
   */
  private authorize(reference: string): void {
    if (this.authorized.has(reference)) return
    authorizeReference(reference, this.settings.root, this.settings.allowedTasks)
    if (this.authorized.size >= 1000) this.authorized.clear()
    this.authorized.add(reference)
  }
}
