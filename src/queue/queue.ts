import { setTimeout as sleep } from 'node:timers/promises'
import { resolveSettings, type Settings } from '../config.js'
import { NotFoundError, UsageError } from '../errors.js'
import type { Backend, Connection } from '../storage/backend.js'
import { openConnection, type OpenOptions } from '../storage/open.js'
import * as tasks from '../storage/task-repository.js'
import type { CancelOutcome, ListFilter, RequeueOutcome } from '../storage/task-types.js'
import { isTerminal, type Status, type Task, type TaskWithRuns } from '../types.js'
import { randomUuid } from '../uuid.js'
import { serializeArgs } from './args.js'
import { authorizeReference } from './reference.js'
import type { QueueState } from './pause.js'
import type { ScheduleInfo } from './schedules.js'
import type { PausedQueue } from '../storage/pause-repository.js'

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

export type CancelResult = { id: string } & CancelOutcome
export type RequeueResult = { id: string } & RequeueOutcome

const FULL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const ID_PREFIX = /^[0-9a-f-]{6,36}$/i

/** Items a bulk enqueue checks between two turns of the event loop while its first chunk is written. */
const PREPARED_PER_TURN = 1000

/** A promise settled from outside; a rejection nobody awaits is not reported as unhandled. */
function settledLater(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve!: () => void
  let reject!: (error: unknown) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => {})
  return { promise, resolve, reject }
}

/**
 * A handle on one queue database with its settings: everything the commands and the library do to
 * tasks goes through here. Open with `Queue.open()`, and `close()` it so the process can exit.
 *
 * Adding, reading and listing tasks run on the connection alone (storage/task-repository.ts); the rest
 * runs on the whole backend, Kysely's handle included, which a lazy queue loads on first use.
 */
export class Queue {
  private full: Backend | undefined

  private constructor(
    readonly settings: Settings,
    private readonly connection: Connection,
  ) {}

  static async open(overrides: Partial<Settings> = {}): Promise<Queue> {
    return Queue.withSettings(await resolveSettings(overrides))
  }

  /**
   * A queue on settings already resolved (a command that needed them before opening the database).
   * `lazy`: Kysely and the whole backend load only when a method needs them, and `backend` is not
   * available until then — for a one-shot command that adds, shows or lists tasks (commands/fast/).
   * `create`: see OpenOptions (default true).
   */
  static async withSettings(settings: Settings, o: { lazy?: boolean } & OpenOptions = {}): Promise<Queue> {
    const queue = new Queue(settings, await openConnection(settings.db, { create: o.create }))
    if (!o.lazy) {
      try {
        await queue.storage()
      } catch (error) {
        await queue.close().catch(() => {})
        throw error
      }
    }
    return queue
  }

  /**
   * @internal The storage seam, for sq's own commands and worker; not part of the library's API.
   * Loaded when the queue was opened, unless it was opened lazy.
   */
  get backend(): Backend {
    if (!this.full) throw new Error('internal error: the backend of a lazy queue was used before it was loaded')
    return this.full
  }

  /** The whole backend, loaded on first use. */
  private async storage(): Promise<Backend> {
    return (this.full ??= await this.connection.backend())
  }

  /** The database URL with any password hidden. */
  get displayUrl(): string {
    return this.connection.displayUrl
  }

  async enqueue(o: EnqueueOptions): Promise<{ id: string; created: boolean }> {
    return tasks.insertTask(this.connection, this.prepare(o))
  }

  /**
   * Enqueues many tasks: every one is validated before any is committed (one bad item throws, naming
   * it with `label`, and nothing is written), then they are inserted in order, `chunkSize` per write
   * transaction. A key held by a queued or running task, or by an earlier item, gives that task's id,
   * not created.
   */
  async enqueueMany(
    items: readonly EnqueueOptions[],
    o: { chunkSize?: number; label?: (index: number) => string } = {},
  ): Promise<{ id: string; created: boolean }[]> {
    const label = o.label ?? ((i: number) => `tasks[${i}]`)
    const chunkSize = o.chunkSize ?? 10_000
    if (!Number.isInteger(chunkSize) || chunkSize < 1)
      throw new UsageError(`chunk size must be a whole number ≥ 1, got ${chunkSize}`)
    const rows: tasks.NewTask[] = []
    const prepareUpTo = (end: number) => {
      for (let i = rows.length; i < end; i++) {
        try {
          rows.push(this.prepare(items[i]!))
        } catch (error) {
          if (error instanceof Error) error.message = `${label(i)}: ${error.message}`
          throw error
        }
      }
    }
    prepareUpTo(Math.min(chunkSize, items.length))
    const [{ insertTasks }, backend] = await Promise.all([import('../storage/bulk-insert.js'), this.storage()])
    // Where an open transaction holds back no other writer, the first chunk is written while the rest
    // are checked (in turns, so that its rows keep flowing) and committed once all have passed.
    const ahead = backend.concurrentWriters && items.length > chunkSize
    const checked = settledLater()
    const first = ahead ? insertTasks(backend, rows.slice(), checked.promise) : undefined
    first?.catch(() => {}) // awaited below; a failure meanwhile is not an unhandled rejection
    try {
      while (rows.length < items.length) {
        prepareUpTo(Math.min(rows.length + PREPARED_PER_TURN, items.length))
        if (ahead) await new Promise(setImmediate)
      }
    } catch (error) {
      checked.reject(error)
      await first?.catch(() => {})
      throw error
    }
    checked.resolve()
    const results = first ? await first : []
    for (let i = results.length; i < rows.length; i += chunkSize)
      results.push(...(await insertTasks(backend, rows.slice(i, i + chunkSize))))
    return results
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

  private readonly authorized = new Set<string>()

  /** A task checked and ready to insert: args serialised, reference authorised, options in range. */
  private prepare(o: EnqueueOptions): tasks.NewTask {
    if (typeof o?.task !== 'string')
      throw new TypeError('task must be a string reference like "path/to/module#exportName"')
    // Only a missing args means {}: null is a non-object and refused like the seed's list.
    const argsJson = serializeArgs(o.args === undefined ? {} : o.args, this.settings.maxArgsSize)
    this.authorize(o.task)
    const maxAttempts = o.maxAttempts ?? 1
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
      throw new UsageError(`max attempts must be a whole number ≥ 1, got ${maxAttempts}`)
    const priority = o.priority ?? 0
    if (!Number.isInteger(priority)) throw new UsageError(`priority must be a whole number, got ${priority}`)
    const queue = o.queue ?? 'default'
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

  /** A full id from a full id or a unique prefix of at least 6 characters. */
  async resolveId(idOrPrefix: string): Promise<string> {
    const text = idOrPrefix.trim().toLowerCase()
    if (FULL_ID.test(text)) return text
    if (!ID_PREFIX.test(text)) {
      throw new UsageError(
        `malformed task id "${idOrPrefix}": give a task id or a prefix of at least 6 of its characters`,
      )
    }
    const matches = await tasks.findByIdPrefix(this.connection, text)
    if (matches.length === 0) throw new NotFoundError(`no task with id ${idOrPrefix}`)
    if (matches.length > 1) throw new UsageError(`task id prefix ${idOrPrefix} is ambiguous: give more characters`)
    return matches[0]!
  }

  async get(idOrPrefix: string): Promise<Task> {
    const id = await this.resolveId(idOrPrefix)
    const task = await tasks.getTask(this.connection, id)
    if (!task) throw new NotFoundError(`no task with id ${idOrPrefix}`)
    return task
  }

  /** The task with its runs, oldest first (`sq show`). */
  async getWithRuns(idOrPrefix: string): Promise<TaskWithRuns> {
    const task = await this.get(idOrPrefix)
    return { ...task, runs: await tasks.taskRuns(this.connection, task) }
  }

  list(filter: ListFilter): Promise<Task[]> {
    return tasks.listTasks(this.connection, filter)
  }

  async purge(o: { statuses: Status[]; olderThanMs: number; dryRun: boolean }): Promise<number> {
    const [{ purgeTasks }, backend] = await Promise.all([import('../storage/task-maintenance.js'), this.storage()])
    return purgeTasks(backend, {
      statuses: o.statuses,
      before: new Date(Date.now() - o.olderThanMs).toISOString(),
      dryRun: o.dryRun,
    })
  }

  /**
   * Cancels each task: queued ones at once; running ones end cancelled and their worker kills them.
   * Each is one atomic decision (control.cancelTask): a task is reported not cancelled only when it had ended.
   */
  async cancel(idsOrPrefixes: string[]): Promise<CancelResult[]> {
    const [control, backend] = await Promise.all([import('../storage/control-repository.js'), this.storage()])
    const results: CancelResult[] = []
    for (const ref of idsOrPrefixes) {
      const id = await this.resolveId(ref)
      const outcome = await control.cancelTask(backend, id)
      if (!outcome) throw new NotFoundError(`no task with id ${ref}`)
      results.push({ id, ...outcome })
    }
    return results
  }

  /** Sends ended tasks back to the queue; returns the ids that were requeued (see requeueEach). */
  async requeue(idsOrPrefixes: string[]): Promise<string[]> {
    return (await this.requeueEach(idsOrPrefixes)).filter((r) => r.requeued).map((r) => r.id)
  }

  /**
   * Sends ended tasks back to the queue, saying of each (in the order given, once) whether it was
   * requeued or what it is instead: queued or running. An id with no task is a NotFoundError.
   */
  async requeueEach(idsOrPrefixes: string[]): Promise<RequeueResult[]> {
    const ids: string[] = []
    for (const ref of idsOrPrefixes) ids.push(await this.resolveId(ref))
    const [control, backend] = await Promise.all([import('../storage/control-repository.js'), this.storage()])
    const outcomes = await control.requeueEach(backend, ids)
    return [...new Set(ids)].map((id) => {
      const outcome = outcomes.get(id)
      if (!outcome) throw new NotFoundError(`no task with id ${id}`)
      return { id, ...outcome }
    })
  }

  async requeueByStatus(statuses: Status[]): Promise<string[]> {
    const bad = statuses.find((s) => !isTerminal(s))
    if (bad)
      throw new UsageError(
        `cannot requeue ${bad} tasks: only completed, failed or cancelled tasks go back to the queue`,
      )
    const [control, { idsWithStatus }, backend] = await Promise.all([
      import('../storage/control-repository.js'),
      import('../storage/task-maintenance.js'),
      this.storage(),
    ])
    return control.requeueTasks(backend, await idsWithStatus(backend, statuses))
  }

  /**
   * Streams a task's output as it grows (`onOutput` gets each new piece) and resolves with the task
   * once it has ended. A retried task's new run streams after the old one's. `signal` stops following
   * (the promise rejects); `onStatus` hears the status each poll reads.
   */
  async follow(
    idOrPrefix: string,
    onOutput: (text: string) => void,
    o: { pollMs?: number; signal?: AbortSignal; onStatus?: (status: Status) => void } = {},
  ): Promise<Task> {
    const id = await this.resolveId(idOrPrefix)
    const pollMs = o.pollMs ?? 100
    /** The run followed (its claim): a new one streams from its start. */
    let claim = -1
    let printed = 0
    let lastSeq = 0
    for (;;) {
      // Only the state each poll, and only the chunks since the last one: following a long stream
      // costs its new output, not all of it again.
      const state = await tasks.getTaskState(this.connection, id)
      if (!state) throw new NotFoundError(`task ${id} was deleted while it was followed`)
      o.onStatus?.(state.status)
      if (state.claims !== claim) {
        claim = state.claims
        printed = 0
        lastSeq = 0
      }
      if (state.status === 'progress') {
        const fresh = await tasks.readChunks(this.connection, id, claim, lastSeq)
        lastSeq = fresh.lastSeq
        if (fresh.output) {
          onOutput(fresh.output)
          printed += fresh.output.length
        }
      } else if (state.status !== 'queued') {
        const task = await tasks.getTask(this.connection, id)
        if (!task) throw new NotFoundError(`task ${id} was deleted while it was followed`)
        // A retry may have started between the two reads; then its run is followed from its start.
        if (isTerminal(task.status) && (await tasks.getTaskState(this.connection, id))?.claims === claim) {
          const rest = (task.output ?? '').slice(printed)
          if (rest) onOutput(rest)
          return task
        }
      }
      await sleep(pollMs, undefined, { signal: o.signal })
    }
  }

  /** How many live workers take tasks from `queueName` (their heartbeat within the timeout). */
  async workersServing(queueName: string): Promise<number> {
    const [{ liveWorkers }, backend] = await Promise.all([import('../storage/worker-repository.js'), this.storage()])
    const live = await liveWorkers(backend, this.settings.heartbeatTimeout)
    return live.filter((w) => w.queues.includes(queueName)).length
  }

  /** Pauses a queue: no task of it is claimed until it is resumed; running tasks go on. Idempotent. */
  async pause(queue: string): Promise<QueueState> {
    const [{ pauseQueue }, backend] = await Promise.all([import('./pause.js'), this.storage()])
    return pauseQueue(backend, queue)
  }

  /** Resumes a paused queue (idempotent); idle workers claim its tasks at once. */
  async resume(queue: string): Promise<QueueState> {
    const [{ resumeQueue }, backend] = await Promise.all([import('./pause.js'), this.storage()])
    return resumeQueue(backend, queue)
  }

  /** The paused queues, by name. */
  async pausedQueues(): Promise<PausedQueue[]> {
    const [{ pausedQueues }, backend] = await Promise.all([import('../storage/pause-repository.js'), this.storage()])
    return pausedQueues(backend)
  }

  /** The schedules of the config, with their last and next run. */
  async schedules(): Promise<ScheduleInfo[]> {
    // Loaded here, not with the queue: croner is no part of an enqueue.
    const [{ listSchedules }, backend] = await Promise.all([import('./schedules.js'), this.storage()])
    return listSchedules(backend, this.settings.schedules)
  }

  async close(): Promise<void> {
    await this.connection.close()
  }
}
