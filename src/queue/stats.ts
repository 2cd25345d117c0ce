import type { Backend } from '../storage/backend.js'
import { Activity } from '../activity.js'
import { countsBy, endedSince } from '../storage/monitor-repository.js'
import { pausedQueues } from '../storage/pause-repository.js'

/** What `sq stats` reports, for monitoring and scripts. */
export type QueueStats = Awaited<ReturnType<typeof queueStats>>

export async function queueStats(backend: Backend, heartbeatTimeout: number) {
  const activity = new Activity(backend, { heartbeatTimeout })
  const windows = [900, 300, 60].map((s) => backend.nowPlusSeconds(-s))
  const [{ counts, estimated }, tasks, oldest, [m15, m5, m1], workers, paused] = await Promise.all([
    activity.counts(),
    countsBy(backend, 'task'),
    activity.oldestQueued(),
    endedSince(backend, windows),
    activity.workers(),
    pausedQueues(backend),
  ])
  return {
    counts,
    tasks: [...tasks.groups].slice(0, 200).map(([task, counts]) => ({ task, ...counts })),
    // Seconds the oldest runnable queued task has waited; null when none waits.
    oldest_queued_age_seconds: oldest.length > 0 ? Math.max(...oldest.map((o) => o.seconds)) : null,
    recent: { '1m': m1!, '5m': m5!, '15m': m15! },
    workers,
    paused_queues: paused,
    // The statuses whose figures (in counts and tasks) are estimates: more than countsBy counts one by one.
    estimated: [...new Set([...estimated, ...tasks.estimated])],
  }
}
