import { Activity, type RunningTask } from './activity.js'
import { DEFAULTS } from './config.js'
import { type FollowCursor, followStep, type Stream } from './follow.js'
import type { Queue } from './queue/queue.js'
import type { Backend } from './storage/backend.js'
import { databaseNow, endedSince, latestWithStatus, type ListedStatus } from './storage/monitor-repository.js'
import { pausedQueues } from './storage/pause-repository.js'
import { readJson } from './storage/task-row.js'
import { firstNonBlankLine } from './display-text.js'
import type { Status } from './task.js'

export type { ListedStatus, RunningTask, Stream }
export { LISTED_STATUSES } from './storage/monitor-repository.js'

const THROUGHPUT_WINDOW_SECONDS = 60
/** The most characters of output a pane keeps; older text is dropped (the pane says so). */
export const PANE_MAX_CHARS = 256 * 1024
/** How a refresh follows the pane's stream: at most 500 chunks, so a pane far behind catches up over a few. */
const PANE_READ = { from: 'tail', maxChunks: 500, tailChars: PANE_MAX_CHARS } as const

/** A task of the lower list; `agoMs` and `delayMs` are by the database's clock. */
export type ListedTask = Snapshot['listed']['tasks'][number]
/** The selected task's output (or log) as far as read; `text` unescaped (the UI escapes). */
export type Pane = NonNullable<Awaited<ReturnType<typeof readPane>>>

/** What `snapshot()` reads; `paused` is absent in snapshots made by hand (tests). */
export type Snapshot = Omit<Awaited<ReturnType<typeof snapshot>>, 'paused' | 'estimated'> & {
  paused?: string[]
  estimated?: Status[]
}

export interface SnapshotOptions {
  /** Task reference pattern (`*`, `?` wildcards, else a substring) for the running tasks and the lower list. */
  filter?: string | null
  /** The task whose output the pane shows. Null or undefined: the first running task. */
  selectedId?: string | null
  /** Which stream the pane shows; default output. */
  stream?: Stream
  /** The status of the lower list; default failed. */
  list?: ListedStatus
  /** The previous snapshot: its pane is continued when it shows the same task and stream. */
  previous?: { pane: PaneStart | null } | null
}

/** What of a pane the next one continues from. */
type PaneStart = { id: string; stream: Stream; text: string; clipped: boolean; cursor: FollowCursor | null }

/**
 * What `sq top` shows, as data, every query bounded; the selected task's pane continues `o.previous`'s, so
 * following a running task costs only its new output. A bare backend has no memory of earlier counts.
 */
export async function snapshot(source: Activity | Backend, o: SnapshotOptions = {}) {
  const began = performance.now()
  const activity =
    source instanceof Activity ? source : new Activity(source, { heartbeatTimeout: DEFAULTS.heartbeatTimeout })
  const backend = activity.backend
  const filter = o.filter?.trim() || null
  const list = o.list ?? 'failed'
  const reading = databaseNow(backend)
  const [at, { counts, estimated }, [throughput], workers, running, listedRows, paused] = await Promise.all([
    reading,
    activity.counts(),
    endedSince(backend, [backend.nowPlusSeconds(-THROUGHPUT_WINDOW_SECONDS)]),
    activity.workers(),
    activity.running({ taskPattern: filter, limit: 100, now: reading.then(Date.parse) }),
    latestWithStatus(backend, { status: list, taskPattern: filter, limit: 20 }),
    pausedQueues(backend),
  ])
  const now = Date.parse(at)
  const selectedId = o.selectedId ?? running[0]?.id ?? null
  const pane =
    selectedId === null
      ? null
      : await readPane(backend, selectedId, o.stream ?? 'output', o.previous?.pane ?? null, now)
  return {
    /** The database's time of this snapshot (ISO). */
    at,
    counts,
    /** The statuses whose counts are estimates (monitor-repository.ts countsBy); absent in snapshots made by hand. */
    estimated,
    total: Object.values(counts).reduce((a, b) => a + b, 0),
    throughput: { ...throughput!, windowSeconds: THROUGHPUT_WINDOW_SECONDS },
    workers,
    paused: paused.map((p) => p.queue),
    running,
    /** The lower list of `sq top`: the tasks of `o.list` (the failures by default). */
    listed: {
      status: list,
      tasks: listedRows.map(({ head, run_at, ...r }) => ({
        ...r,
        /** Since it was last modified (queued: how long it has waited). */
        agoMs: Math.max(0, now - Date.parse(r.modified)),
        // Queued with a delay: until it may run (a task delayed by 2h has not "waited" 2m).
        ...(Date.parse(run_at) > now ? { delayMs: Date.parse(run_at) - now } : {}),
        /** The first non-blank line of its error (failed) or output (completed); '' for queued. Unescaped. */
        line: firstNonBlankLine(head),
      })),
    },
    /** The selected task's pane; null when nothing is selected or the task is gone. */
    pane,
    tookMs: performance.now() - began,
  }
}

/** The pane of task `id`: the previous pane continued by one step of following its stream. */
async function readPane(backend: Backend, id: string, stream: Stream, previous: PaneStart | null, now: number) {
  const continued = previous?.id === id && previous.stream === stream ? previous : null
  const step = await followStep(backend, id, continued?.cursor ?? null, { ...PANE_READ, stream })
  if (!step) return null
  const { head } = step
  const kept = continued && !step.restart && head.status !== 'queued' ? continued : null
  const joined = (kept?.text ?? '') + step.text
  const started = head.started === null ? null : Date.parse(head.started)
  return {
    id,
    task: head.task,
    status: head.status,
    attempt: head.attempts,
    stream,
    worker: head.worker,
    progress: readJson('progress', head.progress),
    // Ms it has run (running) or ran (ended); null before it started.
    elapsedMs: started === null ? null : (head.finished === null ? now : Date.parse(head.finished)) - started,
    error: head.status === 'failed' ? head.error_head : null,
    text: joined.slice(-PANE_MAX_CHARS),
    // Earlier text was left out.
    clipped: (kept ? kept.clipped : step.clipped) || joined.length > PANE_MAX_CHARS,
    cursor: step.cursor,
  }
}

/** What the `sq top` UI needs from a queue: snapshots, and two actions each resolving to a one-line report. */
export type MonitorSource = ReturnType<typeof queueMonitor>

/** A MonitorSource over an open queue: reads through `snapshot`, acts through the Queue's methods. */
export function queueMonitor(queue: Queue) {
  const backend = queue.backend
  const activity = new Activity(backend, { heartbeatTimeout: queue.settings.heartbeatTimeout })
  return {
    snapshot: (o: SnapshotOptions): Promise<Snapshot> => snapshot(activity, o),
    /** Cancels a task (with its worker stopping it). */
    async cancel(id: string) {
      const [result] = await queue.cancel([id])
      if (!result) return `no task ${id}`
      return result.cancelled
        ? `cancelled ${id.slice(0, 8)}`
        : `not cancelled: ${id.slice(0, 8)} is already ${result.status}`
    },
    /** Sends an ended task back to the queue. */
    async requeue(id: string) {
      const ids = await queue.requeue([id])
      return ids.length > 0
        ? `requeued ${id.slice(0, 8)}`
        : `not requeued: only completed, failed or cancelled tasks go back to the queue`
    },
    /** Calls `onChange` when PostgreSQL announces an enqueue or a run's end, to refresh before the next poll. */
    async watch(onChange: () => void) {
      // SQLite hears every commit, heartbeats included: a redraw per commit would cost more than the poll.
      if (backend.hears === 'commits') return async () => {}
      const stops = await Promise.all(['sq_queued', 'sq_ended'].map((channel) => backend.listen(channel, onChange)))
      return async () => {
        await Promise.all(stops.map((stop) => stop()))
      }
    },
  }
}
