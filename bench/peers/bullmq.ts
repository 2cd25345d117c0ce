/**
 * BullMQ with a sandboxed processor (a file, run in child processes of the worker, one per concurrency
 * slot, as sq runs each task in a child) on the local Redis; jobs added with addBulk before the worker
 * starts. Its job records keep timestamp (added), processedOn and finishedOn.
 */
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Queue, Worker } from 'bullmq'
import { ensureRedis, REDIS } from '../env.js'
import type { IdleTarget } from '../idle.js'
import { runFor, steadyRate, waitUntil } from '../process.js'
import { startHost, type Host } from './launch.js'
import type { HostConfig, Peer, Served } from './peer.js'

const VERSION = (createRequire(import.meta.url)('bullmq/package.json') as { version: string }).version
const PROCESSOR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bullmq-noop.cjs')
const ADD_CHUNK = 1000
let sequence = 0

/** A fresh queue (its own key prefix) and the bench's view of it. */
function openQueue() {
  const name = `sq-bench-${process.pid}-${++sequence}`
  const queue = new Queue(name, { connection: REDIS })
  queue.on('error', () => {})
  const waitCompleted = (n: number, everyMs = 20, timeoutMs = 600_000) =>
    waitUntil(async () => (await queue.getCompletedCount()) >= n, 'BullMQ to run its jobs', timeoutMs, everyMs)
  return {
    name,
    async add(n: number) {
      for (let i = 0; i < n; i += ADD_CHUNK) {
        await queue.addBulk(Array.from({ length: Math.min(ADD_CHUNK, n - i) }, () => ({ name: 'noop', data: {} })))
      }
    },
    waitCompleted,
    completed: () => queue.getCompletedCount(),
    /** Steady jobs/s of the completed jobs, from their processedOn and finishedOn. */
    async rate(): Promise<number> {
      return steadyRate((await queue.getJobs(['completed'], 0, -1)).map((job) => [job.processedOn!, job.finishedOn!]))
    },
    async pickupOf(id: string): Promise<number> {
      const job = (await queue.getJob(id))!
      return job.processedOn! - job.timestamp
    },
    addOne: async () => (await queue.add('noop', {})).id!,
    async close() {
      await queue.obliterate({ force: true })
      await queue.close()
    },
  }
}

export const bullmq: Peer = {
  id: 'bullmq',
  label: `BullMQ ${VERSION} sandboxed`,
  versus: 'sqlite',
  method:
    'a Worker with a sandboxed processor file (child processes, not worker threads), concurrency c; ' +
    'jobs added with addBulk before it starts',
  async unavailable() {
    const redis = await ensureRedis()
    return 'unavailable' in redis ? redis.unavailable : undefined
  },

  async throughput(c, n, runMs) {
    const queue = openQueue()
    try {
      await queue.add(n)
      const host = await startHost('bullmq', c, { queue: queue.name, processor: PROCESSOR })
      try {
        await runFor(queue.completed, n, runMs, 'BullMQ')
      } finally {
        await host.stop()
      }
      return await queue.rate()
    } finally {
      await queue.close()
    }
  },

  idle(): IdleTarget {
    let queue: ReturnType<typeof openQueue> | undefined
    let host: Host | undefined
    let done = 0
    return {
      async start(c) {
        queue = openQueue()
        host = await startHost('bullmq', c, { queue: queue.name, processor: PROCESSOR })
        return host.pid
      },
      async pickup() {
        const id = await queue!.addOne()
        await queue!.waitCompleted(++done, 5, 60_000)
        return queue!.pickupOf(id)
      },
      async load(n) {
        await queue!.add(n)
        await queue!.waitCompleted((done += n))
      },
      async stop() {
        await host?.stop()
        await queue?.close()
      },
    }
  },
}

/** In the host: a BullMQ worker whose processor runs in child processes, or in the host for `sleepMs`. */
export async function serveBullmq(config: HostConfig, concurrency: number): Promise<Served> {
  const { sleepMs } = config
  const processor =
    sleepMs === undefined ? config.processor! : () => new Promise<void>((resolve) => setTimeout(resolve, sleepMs))
  const worker = new Worker(config.queue!, processor, {
    connection: REDIS,
    concurrency,
    useWorkerThreads: false,
  })
  worker.on('error', (error) => console.error(error))
  await worker.waitUntilReady()
  return { stop: () => worker.close() }
}
