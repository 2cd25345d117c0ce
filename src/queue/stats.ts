import type { Backend } from '../storage/backend.js'
import { countsByStatus, recentlyEnded } from '../storage/monitor-repository.js'
import { countsByTask, oldestQueuedAgeSeconds, type PerTaskCounts } from '../storage/stats-repository.js'
import { pausedQueues, type PausedQueue } from '../storage/pause-repository.js'
import { liveWorkers } from '../storage/worker-repository.js'
import type { Status, WorkerInfo } from '../types.js'

/** What `sq stats` reports, for monitoring and scripts. */
export interface QueueStats {
  counts: Record<Status, number>
  tasks: PerTaskCounts[]
  /** Seconds the oldest runnable queued task has waited; null when none waits. */
  oldest_queued_age_seconds: number | null
  /** Completions and failures over the last 1, 5 and 15 minutes. */
  recent: Record<'1m' | '5m' | '15m', { completed: number; failed: number }>
  workers: WorkerInfo[]
  /** Queues paused by `sq pause`, by name: workers claim none of their tasks. */
  paused_queues: PausedQueue[]
}

export async function queueStats(backend: Backend, heartbeatTimeout: number): Promise<QueueStats> {
  const [counts, tasks, oldest, m1, m5, m15, workers, paused] = await Promise.all([
    countsByStatus(backend),
    countsByTask(backend),
    oldestQueuedAgeSeconds(backend),
    recentlyEnded(backend, 60),
    recentlyEnded(backend, 300),
    recentlyEnded(backend, 900),
    liveWorkers(backend, heartbeatTimeout),
    pausedQueues(backend),
  ])
  return {
    counts,
    tasks,
    oldest_queued_age_seconds: oldest,
    recent: { '1m': m1, '5m': m5, '15m': m15 },
    workers,
    paused_queues: paused,
  }
}
