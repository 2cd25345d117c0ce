import { Counter, Gauge, Registry } from 'prom-client'
import type { Queue } from '../queue/queue.js'
import { Activity } from '../activity.js'
import { endedByTask, type EndedByTask } from '../storage/dashboard-repository.js'
import { STATUSES } from '../task.js'

/** Upper bounds (seconds) of the run duration histogram's buckets. */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600]

/** A label value cut to 200 characters, marked `…` (a task name of 2 MB was repeated into every series). */
const labelValue = (text: string) => (text.length <= 200 ? text : `${text.slice(0, 199)}…`)

/**
 * `/metrics` (README "Metrics"): `render()` reads the database at each scrape, so every `sq serve` gives the
 * same numbers across restarts; nothing is cached (a scrape costs a few GROUP BYs, bench/dashboard.ts).
 */
export function createMetrics(queue: Queue) {
  const d = queue.backend
  const activity = new Activity(d, { heartbeatTimeout: queue.settings.heartbeatTimeout, endedCountsMaxAgeMs: 0 })
  const registry = new Registry()
  // The collect callbacks of one scrape share one read of the database: render() starts it, and
  // registry.metrics() calls every collect synchronously, before any other scrape can begin.
  const read = async () => {
    const [queues, oldest, ended, workers] = await Promise.all([
      activity.countsByQueue().then((c) => c.queues),
      activity.oldestQueued(),
      endedByTask(d, DURATION_BUCKETS),
      activity.workers(),
    ])
    return { queues, oldest, ended, workers: workers.length }
  }
  let current: ReturnType<typeof read> | undefined
  const scrape = () => current ?? read()

  /** A metric whose series are all set anew from each scrape's read. */
  const define = (
    Kind: typeof Gauge | typeof Counter,
    name: string,
    help: string,
    labelNames: string[],
    series: (s: Awaited<ReturnType<typeof read>>) => Array<readonly [Record<string, string>, number]>,
  ) =>
    new Kind({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect(this: Gauge | Counter) {
        const s = await scrape()
        this.reset()
        for (const [labels, n] of series(s)) 'set' in this ? this.set(labels, n) : this.inc(labels, n)
      },
    })

  define(Gauge, 'sq_tasks', 'Tasks in the database by queue and status', ['queue', 'status'], ({ queues }) =>
    queues.flatMap(({ queue: q, counts }) =>
      STATUSES.map((status) => [{ queue: labelValue(q), status }, counts[status]] as const),
    ),
  )
  define(
    Gauge,
    'sq_oldest_queued_age_seconds',
    'Seconds the oldest runnable queued task of the queue has waited past its run_at (0 when none waits)',
    ['queue'],
    ({ queues, oldest }) =>
      queues.map(({ queue: q }) => [{ queue: labelValue(q) }, oldest.find((o) => o.queue === q)?.seconds ?? 0]),
  )
  define(
    Counter,
    'sq_runs_ended_total',
    'Ended tasks in the database by task reference and final status (purge and requeue lower it: a counter reset)',
    ['task', 'status'],
    ({ ended }) => ended.map((r) => [{ task: labelValue(r.task), status: r.status }, r.n]),
  )
  registry.registerMetric(durationHistogram(async () => (await scrape()).ended) as never)
  define(Gauge, 'sq_workers_live', 'Workers that heartbeated within the heartbeat timeout', [], ({ workers }) => [
    [{}, workers],
  ])

  return {
    contentType: registry.contentType,
    render() {
      current = read()
      // A failed read fails this scrape (500), not a later one.
      current.catch(() => {})
      const text = registry.metrics()
      current = undefined
      return text
    },
  }
}

/**
 * The run duration histogram, counted by SQL (endedByTask), not by prom-client's Histogram, which counts only
 * this process's observations: a metric object of the shape the Registry renders, summed over statuses.
 */
function durationHistogram(read: () => Promise<EndedByTask[]>) {
  const name = 'sq_run_duration_seconds'
  return {
    name,
    help: 'Duration of the last run of each ended task in the database that recorded one (completed, failed), by task reference',
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const byTask = new Map<string, { cumulative: number[]; count: number; sum: number }>()
      for (const r of await read()) {
        if (r.timed === 0) continue
        const task = labelValue(r.task)
        const entry = byTask.get(task) ?? { cumulative: DURATION_BUCKETS.map(() => 0), count: 0, sum: 0 }
        for (const [i, n] of r.cumulative.entries()) entry.cumulative[i]! += n
        entry.count += r.timed
        entry.sum += r.sumSeconds
        byTask.set(task, entry)
      }
      const values = [...byTask].flatMap(([task, e]) => [
        // The +Inf bucket holds every timed run: the count.
        ...[...DURATION_BUCKETS, '+Inf'].map((le, i) => ({
          metricName: `${name}_bucket`,
          labels: { task, le },
          value: e.cumulative[i] ?? e.count,
        })),
        { metricName: `${name}_sum`, labels: { task }, value: e.sum },
        { metricName: `${name}_count`, labels: { task }, value: e.count },
      ])
      return { name, help: this.help, type: this.type, aggregator: this.aggregator, values }
    },
  }
}
