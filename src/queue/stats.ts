import type { Backend } from '../storage/backend.js'
import { Activity } from '../activity.js'
import { countsBy, endedSince } from '../storage/monitor-repository.js'
import { pausedQueues, type PausedQueue } from '../storage/pause-repository.js'
import type { Status } from '../task.js'
import type { WorkerInfo } from '../types.js'

/** What `sq stats` reports, for monitoring and scripts. */
export interface QueueStats {
  counts: Record<Status, number>
  /** Per task reference, the first 200 in order. */
  tasks: Array<{ task: string } & Record<Status, number>>
  /** Seconds the oldest runnable queued task has waited; null when none waits. */
  oldest_queued_age_seconds: number | null
  /** Completions and failures over the last 1, 5 and 15 minutes. */
  recent: Record<'1m' | '5m' | '15m', { completed: number; failed: number }>
  workers: WorkerInfo[]
  /** Queues paused by `sq pause`, by name: workers claim none of their tasks. */
  paused_queues: PausedQueue[]
}

export async function queueStats(backend: Backend, heartbeatTimeout: number): Promise<QueueStats> {
  const activity = new Activity(backend, { heartbeatTimeout })
  const [counts, tasks, oldest, [m15, m5, m1], workers, paused] = await Promise.all([
    activity.counts(),
    countsBy(backend, 'task'),
    activity.oldestQueued(),
    endedSince(
      backend,
      [900, 300, 60].map((s) => backend.nowPlusSeconds(-s)),
    ),
    activity.workers(),
    pausedQueues(backend),
  ])
  return {
    counts,
    tasks: [...tasks].slice(0, 200).map(([task, counts]) => ({ task, ...counts })),
    oldest_queued_age_seconds: oldest.length > 0 ? Math.max(...oldest.map((o) => o.seconds)) : null,
    recent: { '1m': m1!, '5m': m5!, '15m': m15! },
    workers,
    paused_queues: paused,
  }
}
