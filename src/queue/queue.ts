import { resolveSettings, type Settings } from '../config.js'
import { NotFoundError, UsageError } from '../errors.js'
import type { Backend, Connection } from '../storage/backend.js'
import { openConnection, type OpenOptions, pgOptions } from '../storage/open.js'
import * as tasks from '../storage/task-repository.js'
import type { CancelOutcome, ListFilter, RequeueOutcome } from '../storage/task-types.js'
import { isTerminal, type Status, type Task, type TaskWithRuns } from '../types.js'
import { enqueueMany } from './enqueue-many.js'
import { type FollowTaskOptions, followTask } from '../follow.js'
import { type EnqueueOptions, newTaskCheck } from './new-task.js'
import { checkQueueName, type QueueState } from './pause.js'
import type { ScheduleInfo } from './schedules.js'
import type { PausedQueue } from '../storage/pause-repository.js'
import type { Executor } from '../storage/executor.js'
import type { WaitOptions } from './wait.js'

export type { EnqueueOptions } from './new-task.js'

/** Enqueueing in the app's own transaction: the task exists if and only if it commits. */
export interface InTransaction {
  /** The app's connection or transaction (a pg client in its BEGIN … COMMIT, Kysely, better-sqlite3): see Executor. */
  executor?: Executor
}
const FULL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export type CancelResult = { id: string } & CancelOutcome
export type RequeueResult = { id: string } & RequeueOutcome

/**
 * A handle on one queue database with its settings, for the commands and the library; `close()` it so the
 * process can exit. Adding and reading tasks need the connection alone; the rest, the whole backend (Kysely's).
 */
export class Queue {
  private full: Backend | undefined

  private constructor(
    readonly settings: Settings,
    private readonly connection: Connection,
    private readonly prepare = newTaskCheck(settings),
  ) {}

  static async open(overrides: Partial<Settings> = {}): Promise<Queue> {
    return Queue.withSettings(await resolveSettings(overrides))
  }

  /** A queue on resolved settings; `lazy`: the whole backend loads on first need, for a one-shot command. */
  static async withSettings(settings: Settings, o: { lazy?: boolean } & OpenOptions = {}): Promise<Queue> {
    const queue = new Queue(settings, await openConnection(settings.db, { ...pgOptions(settings), create: o.create }))
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

  /** @internal The storage seam, for sq's own commands and worker, not the library's API; loaded unless lazy. */
  get backend(): Backend {
    if (!this.full) throw new Error('internal error: the backend of a lazy queue was used before it was loaded')
    return this.full
  }

  private async storage(): Promise<Backend> {
    return (this.full ??= await this.connection.backend())
  }

  /** The database URL with any password hidden. */
  get displayUrl(): string {
    return this.connection.displayUrl
  }

  async enqueue(o: EnqueueOptions & InTransaction): Promise<{ id: string; created: boolean }> {
    const task = this.prepare(o)
    const store = o.executor === undefined ? this.connection : (await this.onExecutor(o.executor)).runner
    return tasks.insertTask(store, task)
  }

  /** The queue's statements on an app's executor, checked to reach this queue's database. */
  private async onExecutor(executor: Executor) {
    const [{ onExecutor }, backend] = await Promise.all([import('../storage/executor.js'), this.storage()])
    return onExecutor(backend, executor)
  }

  /**
   * Enqueues many tasks in order, all validated before any is written (a bad one throws, named by `label`),
   * `chunkSize` per transaction or all in the app's. A key already held gives its task's id, not created.
   */
  enqueueMany(
    items: readonly EnqueueOptions[],
    o: { chunkSize?: number; label?: (index: number) => string } & InTransaction = {},
  ): Promise<{ id: string; created: boolean }[]> {
    const { executor } = o
    return enqueueMany(() => this.storage(), this.prepare, items, {
      ...o,
      writer: executor === undefined ? undefined : async () => (await this.onExecutor(executor)).writer,
    })
  }

  /** A full id from a full id or a unique prefix of at least 6 characters. */
  async resolveId(idOrPrefix: string): Promise<string> {
    const text = idOrPrefix.trim().toLowerCase()
    if (FULL_ID.test(text)) return text
    if (!/^[0-9a-f-]{6,36}$/i.test(text))
      throw new UsageError(
        `malformed task id "${idOrPrefix}": give a task id or a prefix of at least 6 of its characters`,
      )
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
    return purgeTasks(backend, o)
  }

  /** Cancels each task (its worker kills a running one), one atomic decision each: not cancelled only if it ended. */
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

  /** Sends ended tasks back, saying of each (in the order given, once) whether it was requeued or what it is. */
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

  /** Sends every task in these ended statuses (of one queue if named) back; `dryRun`: only says which. */
  async requeueByStatus(statuses: Status[], o: { queue?: string; dryRun?: boolean } = {}): Promise<string[]> {
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
    const ids = await idsWithStatus(backend, statuses, { queue: o.queue })
    return o.dryRun ? ids : control.requeueTasks(backend, ids)
  }

  /**
   * Streams a task's output as it grows (a retried task's new run after the old one's) and resolves with
   * the task once it has ended. `signal` stops following (a rejection); `onStatus` hears each poll.
   */
  async follow(idOrPrefix: string, onOutput: (text: string) => void, o: FollowTaskOptions = {}): Promise<Task> {
    return followTask(this.connection, await this.resolveId(idOrPrefix), onOutput, o)
  }

  /**
   * Waits for a task to end and resolves with its final record (check `status`), streaming its output
   * meanwhile. At `timeout` ms or `signal`, a WaitStoppedError (`timedOut` says which), the task left as is.
   */
  async wait(idOrPrefix: string, o: WaitOptions = {}): Promise<Task> {
    const [{ waitForEnd }, id] = await Promise.all([import('./wait.js'), this.resolveId(idOrPrefix)])
    return waitForEnd(this, id, o)
  }

  /** How many live workers take tasks from `queueName` (their heartbeat within the timeout). */
  async workersServing(queueName: string): Promise<number> {
    const [{ liveWorkers }, backend] = await Promise.all([import('../storage/worker-repository.js'), this.storage()])
    const live = await liveWorkers(backend, this.settings.heartbeatTimeout)
    return live.filter((w) => w.queues.includes(queueName)).length
  }

  /** Pauses a queue, with tasks or not (idempotent): workers claim none of them until resumed; running ones go on. */
  async pause(queue: string): Promise<QueueState> {
    checkQueueName(queue)
    const [pauses, backend] = await Promise.all([import('../storage/pause-repository.js'), this.storage()])
    return { queue, paused: true, paused_at: (await pauses.pauseQueue(backend, queue)).paused_at }
  }

  /** Resumes a paused queue (idempotent); idle workers are woken and claim its tasks at once. */
  async resume(queue: string): Promise<QueueState> {
    checkQueueName(queue)
    const [pauses, backend] = await Promise.all([import('../storage/pause-repository.js'), this.storage()])
    await pauses.resumeQueue(backend, queue)
    return { queue, paused: false, paused_at: null }
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
