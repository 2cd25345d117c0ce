import { DEFAULTS } from './config.js'
import type { Queue } from './queue/queue.js'
import type { Backend } from './storage/backend.js'
import * as monitor from './storage/monitor-repository.js'
import { pausedQueues } from './storage/pause-repository.js'
import { readJson } from './storage/task-row.js'
import { liveWorkers } from './storage/worker-repository.js'
import { firstNonBlankLine, lastNonBlankLine } from './display-text.js'
import type { Progress, Status, WorkerInfo } from './types.js'

/**
 * What `sq top` shows, as data: `snapshot()` reads it in one go, the UI renders it. A snapshot carries
 * the selected task's output pane, and the next `snapshot()` continues that pane from where it stopped
 * (`previous`), so following a running task costs only its new output.
 */

export type Stream = monitor.Stream

/** Seconds over which throughput is counted. */
export const THROUGHPUT_WINDOW_SECONDS = 60
/** The most characters of output a pane keeps; older text is dropped (the pane says so). */
export const PANE_MAX_CHARS = 256 * 1024
/**
 * How stale the counts of ended tasks (completed, failed, cancelled) may be. Counting them reads every
 * row of a large table (tens of milliseconds at 100,000 rows), so a refresh re-counts only queued and
 * running tasks and reuses the ended counts of the previous snapshot until they are this old.
 */
export const ENDED_COUNTS_MAX_AGE_MS = 5000
/** The most chunks one refresh reads for the pane; a pane far behind catches up over a few refreshes. */
const PANE_MAX_CHUNKS = 500

export interface RunningTask {
  id: string
  task: string
  worker: string | null
  started: string | null
  /** Milliseconds since it started, by the database's clock. */
  elapsedMs: number
  attempt: number
  progress: Progress | null
  /** The last non-blank line of its output so far, unescaped (the UI escapes). */
  lastLine: string
}

export interface FailedTask {
  id: string
  task: string
  modified: string
  /** Milliseconds since it failed, by the database's clock. */
  agoMs: number
  /** The first non-blank line of its error, unescaped. */
  errorLine: string
}

/** Which tasks `sq top`'s lower list shows (Tab cycles them). */
export type ListedStatus = monitor.ListedStatus
export const LISTED_STATUSES: readonly ListedStatus[] = ['failed', 'queued', 'completed']

/** A task of the lower list: a failure with its error, a completed task with its output, a queued one. */
export interface ListedTask {
  id: string
  task: string
  modified: string
  /** Milliseconds since it was last modified (queued: how long it has waited), by the database's clock. */
  agoMs: number
  /** Queued with a delay: milliseconds until it may run (a task delayed by 2h has not "waited" 2m). */
  delayMs?: number
  /** The first non-blank line of its error (failed) or output (completed); '' for queued. Unescaped. */
  line: string
}

/** The selected task's output (or log), as far as it has been read. */
export interface Pane {
  id: string
  task: string
  status: Status
  attempt: number
  /** The run's claim: the pane starts over when it changes (a new run). */
  claim: number
  stream: Stream
  worker: string | null
  progress: Progress | null
  /** Milliseconds it has run (running) or ran (ended); null before it started. */
  elapsedMs: number | null
  /** The tail of the stream, at most PANE_MAX_CHARS. Unescaped: the UI escapes. */
  text: string
  /** True when earlier text was left out. */
  clipped: boolean
  /** The error of a failed task (its start). */
  error: string | null
  /** Where an incremental read continues: the last chunk seq read, while the task runs. */
  lastSeq: number
}

export interface Snapshot {
  /** The database's time of this snapshot (ISO). */
  at: string
  counts: Record<Status, number>
  total: number
  throughput: { completed: number; failed: number; windowSeconds: number }
  workers: WorkerInfo[]
  /** Queues paused by `sq pause`, by name (absent in snapshots made by hand, e.g. in tests). */
  paused?: string[]
  running: RunningTask[]
  failures: FailedTask[]
  /** The lower list of `sq top`: the tasks of `SnapshotOptions.list` (the failures by default). */
  listed: { status: ListedStatus; tasks: ListedTask[] }
  /** The selected task's pane; null when nothing is selected or the task is gone. */
  pane: Pane | null
  /** Milliseconds this snapshot took to read. */
  tookMs: number
  /** When (Date.now()) the counts of ended statuses were last read in full. */
  endedCountsAt: number
}

export interface SnapshotOptions {
  /** Task reference pattern (`*`, `?` wildcards, else a substring) for the running and failed lists. */
  filter?: string | null
  /** The task whose output the pane shows. Null or undefined: the first running task. */
  selectedId?: string | null
  /** Which stream the pane shows; default output. */
  stream?: Stream
  /** Seconds without a heartbeat after which a worker no longer counts as live (Settings.heartbeatTimeout). */
  heartbeatTimeout?: number
  /** The status of the lower list; default failed (then it is `failures`, read once). */
  list?: ListedStatus
  runningLimit?: number
  failureLimit?: number
  /** See ENDED_COUNTS_MAX_AGE_MS; 0 re-counts every time. */
  endedCountsMaxAgeMs?: number
  /**
   * The previous snapshot: its pane is continued when it shows the same task, run and stream, and its
   * counts of ended tasks are reused while fresh enough.
   */
  previous?: Snapshot | null
}

/** Progress to draw as a bar: malformed progress (the stored text, see readJson) draws none. */
const parseProgress = (json: string | null): Progress | null => {
  const progress = readJson('progress', json)
  return typeof progress === 'string' ? null : progress
}

/** Reads everything `sq top` shows. Every query is bounded; see storage/monitor-repository.ts. */
export async function snapshot(backend: Backend, o: SnapshotOptions = {}): Promise<Snapshot> {
  const began = performance.now()
  const filter = o.filter?.trim() || null
  const reuse = o.previous && Date.now() - o.previous.endedCountsAt < (o.endedCountsMaxAgeMs ?? ENDED_COUNTS_MAX_AGE_MS)
  const list = o.list ?? 'failed'
  const [at, fresh, ended, workers, runningRows, failureRows, listedRows, paused] = await Promise.all([
    monitor.databaseNow(backend),
    monitor.countsByStatus(backend, reuse ? ['queued', 'progress'] : undefined),
    monitor.recentlyEnded(backend, THROUGHPUT_WINDOW_SECONDS),
    liveWorkers(backend, o.heartbeatTimeout ?? DEFAULTS.heartbeatTimeout),
    monitor.runningTasks(backend, { taskPattern: filter, limit: o.runningLimit ?? 100 }),
    monitor.recentFailures(backend, { taskPattern: filter, limit: o.failureLimit ?? 20 }),
    list === 'failed'
      ? null
      : monitor.latestWithStatus(backend, { status: list, taskPattern: filter, limit: o.failureLimit ?? 20 }),
    pausedQueues(backend),
  ])
  const counts = reuse
    ? {
        ...fresh,
        completed: o.previous!.counts.completed,
        failed: o.previous!.counts.failed,
        cancelled: o.previous!.counts.cancelled,
      }
    : fresh
  const now = Date.parse(at)
  const since = (iso: string | null) => (iso === null ? 0 : Math.max(0, now - Date.parse(iso)))
  const running: RunningTask[] = runningRows.map((r) => ({
    id: r.id,
    task: r.task,
    worker: r.worker,
    started: r.started,
    elapsedMs: since(r.started),
    attempt: r.attempts,
    progress: parseProgress(r.progress),
    lastLine: lastNonBlankLine(r.last_output),
  }))
  const failures: FailedTask[] = failureRows.map((r) => ({
    id: r.id,
    task: r.task,
    modified: r.modified,
    agoMs: since(r.modified),
    errorLine: firstNonBlankLine(r.error_head),
  }))
  const listed: ListedTask[] =
    listedRows === null
      ? failures.map((f) => ({ id: f.id, task: f.task, modified: f.modified, agoMs: f.agoMs, line: f.errorLine }))
      : listedRows.map((r) => ({
          id: r.id,
          task: r.task,
          modified: r.modified,
          agoMs: since(r.modified),
          ...(r.run_at && Date.parse(r.run_at) > now ? { delayMs: Date.parse(r.run_at) - now } : {}),
          line: firstNonBlankLine(r.head),
        }))
  const selectedId = o.selectedId ?? running[0]?.id ?? null
  const previousPane = o.previous?.pane ?? null
  const pane = selectedId === null ? null : await readPane(backend, selectedId, o.stream ?? 'output', previousPane, now)
  return {
    at,
    counts,
    total: Object.values(counts).reduce((a, b) => a + b, 0),
    throughput: { ...ended, windowSeconds: THROUGHPUT_WINDOW_SECONDS },
    workers,
    paused: paused.map((p) => p.queue),
    running,
    failures,
    listed: { status: list, tasks: listed },
    pane,
    tookMs: performance.now() - began,
    endedCountsAt: reuse ? o.previous!.endedCountsAt : Date.now(),
  }
}

async function readPane(
  backend: Backend,
  id: string,
  stream: Stream,
  previous: Pane | null,
  now: number,
): Promise<Pane | null> {
  const row = await monitor.taskHead(backend, id)
  if (!row) return null
  const started = row.started === null ? null : Date.parse(row.started)
  const base = {
    id,
    task: row.task,
    status: row.status,
    attempt: row.attempts,
    claim: row.claims,
    stream,
    worker: row.worker,
    progress: parseProgress(row.progress),
    elapsedMs: started === null ? null : (row.finished === null ? now : Date.parse(row.finished)) - started,
    error: row.status === 'failed' ? row.error_head : null,
  }
  const same = previous !== null && previous.id === id && previous.claim === row.claims && previous.stream === stream
  if (row.status === 'progress') {
    // Continue from the previous read only if it was of this same run while it was running.
    const continues = same && previous.status === 'progress'
    const read = await monitor.readStreamChunks(backend, {
      id,
      claim: row.claims,
      stream,
      afterSeq: continues ? previous.lastSeq : 0,
      maxChunks: PANE_MAX_CHUNKS,
    })
    const joined = (continues ? previous.text : '') + read.text
    const clipped = (continues && previous.clipped) || (!continues && read.more) || joined.length > PANE_MAX_CHARS
    return { ...base, text: joined.slice(-PANE_MAX_CHARS), clipped, lastSeq: read.lastSeq }
  }
  if (row.status === 'queued') return { ...base, text: '', clipped: false, lastSeq: 0 }
  // Ended: the chunks were folded into the row. Read its tail once; later refreshes reuse it.
  if (same && previous.status === row.status)
    return { ...base, text: previous.text, clipped: previous.clipped, lastSeq: 0 }
  const ended = await monitor.endedStreamTail(backend, { id, stream, maxChars: PANE_MAX_CHARS })
  return { ...base, text: ended.text, clipped: ended.length > ended.text.length, lastSeq: 0 }
}

/** What the `sq top` UI needs from a queue: snapshots to draw, and the two actions it offers. */
export interface MonitorSource {
  snapshot(o: SnapshotOptions): Promise<Snapshot>
  /** Cancels a task (with its worker stopping it); resolves to a one-line report. */
  cancel(id: string): Promise<string>
  /** Sends an ended task back to the queue; resolves to a one-line report. */
  requeue(id: string): Promise<string>
  /**
   * Calls `onChange` when the database announces a change (PostgreSQL LISTEN on enqueue and on
   * a run ending), so the UI can refresh at once instead of at its next poll. SQLite: never called.
   */
  watch(onChange: () => void): Promise<() => Promise<void>>
}

/** A MonitorSource over an open queue: reads through `snapshot`, acts through the Queue's methods. */
export function queueMonitor(queue: Queue): MonitorSource {
  const backend = queue.backend
  return {
    snapshot: (o) => snapshot(backend, { heartbeatTimeout: queue.settings.heartbeatTimeout, ...o }),
    async cancel(id) {
      const [result] = await queue.cancel([id])
      if (!result) return `no task ${id}`
      return result.cancelled
        ? `cancelled ${id.slice(0, 8)}`
        : `not cancelled: ${id.slice(0, 8)} is already ${result.status}`
    },
    async requeue(id) {
      const ids = await queue.requeue([id])
      return ids.length > 0
        ? `requeued ${id.slice(0, 8)}`
        : `not requeued: only completed, failed or cancelled tasks go back to the queue`
    },
    async watch(onChange) {
      // SQLite hears every commit, heartbeats included: a redraw per commit would cost more than the poll.
      if (backend.hears === 'commits') return async () => {}
      const stops = await Promise.all(
        ['sq_queued', 'sq_ended'].map((channel) => backend.listen(channel, () => onChange())),
      )
      return async () => {
        await Promise.all(stops.map((stop) => stop()))
      }
    },
  }
}
