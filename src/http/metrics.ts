import { Counter, Gauge, Registry } from 'prom-client'
import type { Queue } from '../queue/queue.js'
import { countsByQueue, durationBuckets, endedByTask, oldestQueuedByQueue } from '../storage/dashboard-repository.js'
import { liveWorkers } from '../storage/worker-repository.js'
import { STATUSES } from '../types.js'

/**
 * `/metrics` of `sq serve`, in the Prometheus text format (prom-client renders it). Everything is read
 * from the database at scrape time (collect callbacks), so the numbers are the same whichever `sq
 * serve` answers and survive its restarts. See README "Metrics" for names, labels and semantics.
 */

/** Upper bounds (seconds) of the run duration histogram's buckets. */
export const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600]

export function createMetrics(queue: Queue): Registry {
  const d = queue.dialect
  const registry = new Registry()

  new Gauge({
    name: 'sq_tasks',
    help: 'Tasks in the database by queue and status',
    labelNames: ['queue', 'status'],
    registers: [registry],
    async collect() {
      const rows = await countsByQueue(d)
      this.reset()
      for (const { queue: q, counts } of rows) for (const status of STATUSES) this.set({ queue: q, status }, counts[status])
    },
  })

  new Gauge({
    name: 'sq_oldest_queued_age_seconds',
    help: 'Seconds the oldest runnable queued task of the queue has waited past its run_at (0 when none waits)',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const [queues, oldest] = await Promise.all([countsByQueue(d), oldestQueuedByQueue(d)])
      this.reset()
      for (const { queue: q } of queues) this.set({ queue: q }, oldest.find((o) => o.queue === q)?.seconds ?? 0)
    },
  })

  new Counter({
    name: 'sq_runs_ended_total',
    help: 'Ended tasks in the database by task reference and final status (purge and requeue lower it: a counter reset)',
    labelNames: ['task', 'status'],
    registers: [registry],
    async collect() {
      const rows = await endedByTask(d)
      this.reset()
      for (const r of rows) this.inc({ task: r.task, status: r.status }, r.n)
    },
  })

  registry.registerMetric(durationHistogram(queue) as never)

  new Gauge({
    name: 'sq_workers_live',
    help: 'Workers that heartbeated within the heartbeat timeout',
    registers: [registry],
    async collect() {
      this.set((await liveWorkers(d, queue.settings.heartbeatTimeout)).length)
    },
  })

  return registry
}

/**
 * The run duration histogram. prom-client's Histogram only counts observations made in this process;
 * its buckets here are counted by SQL over the ended tasks (dashboard-repository durationBuckets), so
 * it is a metric object of the shape the Registry renders (`get()` → name, help, type, values).
 */
function durationHistogram(queue: Queue) {
  const name = 'sq_run_duration_seconds'
  return {
    name,
    help: 'Duration of the last run of each completed or failed task in the database, by task reference',
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const rows = await durationBuckets(queue.dialect, DURATION_BUCKETS)
      const values = rows.flatMap((r) => [
        ...DURATION_BUCKETS.map((le, i) => ({ metricName: `${name}_bucket`, labels: { task: r.task, le }, value: r.cumulative[i]! })),
        { metricName: `${name}_bucket`, labels: { task: r.task, le: '+Inf' }, value: r.count },
        { metricName: `${name}_sum`, labels: { task: r.task }, value: r.sumSeconds },
        { metricName: `${name}_count`, labels: { task: r.task }, value: r.count },
      ])
      return { name, help: this.help, type: this.type, aggregator: this.aggregator, values }
    },
  }
}
