/**
 * I/O-bound tasks: IO_TASKS tasks (default 1,000) that each await a timer of IO_SLEEP_MS (default 1,000),
 * queued before the worker starts, run at concurrency IO_CONCURRENCY (default 1,000) by
 *
 * - `sq worker --burst -c C --tasks-per-process P` for each P of IO_TASKS_PER_PROCESS (default 250,1000;
 *   C / P task processes), on SQLite and on a fresh PostgreSQL database (IO_DATABASES);
 * - BullMQ's in-process Worker (concurrency C, the processor a function in the worker's process), on Redis.
 *
 * Figures: the span from the first task's start to the last one's end, from each queue's own records;
 * and the peak PSS (/proc/<pid>/smaps_rollup, sampled every 100 ms) summed over the worker's whole process
 * tree (sq: the worker, its task processes and their watchdog shells). Ratios are against BullMQ's in
 * the same run. `npm run bench:io` prints the table; bench/scale.ts may call `ioBound()`.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Queue as BullQueue } from 'bullmq'
import { openQueue } from '../src/index.js'
import { cleanup, ensureRedis, REDIS, scratch } from './env.js'
import { startHost } from './peers/launch.js'
import { sleep, treePss, waitUntil } from './process.js'
import { num, ratio, table } from './report.js'
import { freshStore, type Kind, startWorker } from './sq.js'

const list = (text: string) => text.split(',').map((s) => s.trim())

export interface IoBoundOptions {
  tasks: number
  sleepMs: number
  concurrency: number
  tasksPerProcess: number[]
  databases: Kind[]
}

export interface IoBoundFigures {
  runner: string
  /** Processes in the worker's tree at its peak PSS. */
  processes: number
  /** First task's start to last task's end, ms. */
  spanMs: number
  /** Peak PSS of the worker's process tree, MB. */
  pssMb: number
}

const DEFAULTS: IoBoundOptions = {
  tasks: Number(process.env.IO_TASKS ?? 1000),
  sleepMs: Number(process.env.IO_SLEEP_MS ?? 1000),
  concurrency: Number(process.env.IO_CONCURRENCY ?? 1000),
  tasksPerProcess: list(process.env.IO_TASKS_PER_PROCESS ?? '250,1000').map(Number),
  databases: list(process.env.IO_DATABASES ?? 'sqlite,postgres') as Kind[],
}

/** Samples the tree's PSS until `done` settles; the peak, with its process count. */
async function peakPss(pid: number, done: Promise<unknown>): Promise<{ mb: number; processes: number }> {
  let peak = { mb: 0, processes: 0 }
  let over = false
  void done.finally(() => (over = true)).catch(() => {})
  while (!over) {
    const now = treePss(pid)
    if (now.mb > peak.mb) peak = now
    await sleep(100)
  }
  return peak
}

const span = (runs: Array<[start: number, end: number]>) =>
  Math.max(...runs.map(([, end]) => end)) - Math.min(...runs.map(([start]) => start))

async function sqRun(kind: Kind, perProcess: number, o: IoBoundOptions): Promise<IoBoundFigures> {
  fs.writeFileSync(
    path.join(scratch(), 'io.js'),
    'export function wait({ ms }) { return new Promise((resolve) => setTimeout(resolve, ms)) }\n',
  )
  const store = await freshStore(kind)
  const q = await openQueue({ db: store.url, root: scratch() })
  try {
    await q.enqueueMany(Array.from({ length: o.tasks }, () => ({ task: 'io#wait', args: { ms: o.sleepMs } })))
    const flags = ['--burst', '-c', String(o.concurrency), '--tasks-per-process', String(perProcess)]
    const worker = startWorker(store.url, flags)
    const peak = await peakPss(worker.pid, worker.exited)
    await worker.exited
    const tasks = await q.list({ statuses: ['completed'], limit: o.tasks })
    if (tasks.length !== o.tasks) throw new Error(`sq completed ${tasks.length} of ${o.tasks} tasks`)
    return {
      runner: `sq ${kind}, --tasks-per-process ${perProcess}`,
      processes: peak.processes,
      spanMs: span(tasks.map((t) => [Date.parse(t.started!), Date.parse(t.finished!)])),
      pssMb: peak.mb,
    }
  } finally {
    await q.close()
    await store.drop()
  }
}

async function bullmqRun(o: IoBoundOptions): Promise<IoBoundFigures> {
  const name = `sq-io-${process.pid}`
  const queue = new BullQueue(name, { connection: REDIS })
  queue.on('error', () => {})
  try {
    for (let i = 0; i < o.tasks; i += 1000)
      await queue.addBulk(Array.from({ length: Math.min(1000, o.tasks - i) }, () => ({ name: 'wait', data: {} })))
    const host = await startHost('bullmq', o.concurrency, { queue: name, sleepMs: o.sleepMs })
    const done = waitUntil(async () => (await queue.getCompletedCount()) >= o.tasks, 'BullMQ to run its jobs', 600_000)
    const peak = await peakPss(host.pid, done)
    await done
    await host.stop()
    const jobs = await queue.getJobs(['completed'], 0, -1)
    return {
      runner: 'BullMQ in-process',
      processes: peak.processes,
      spanMs: span(jobs.map((job) => [job.processedOn!, job.finishedOn!])),
      pssMb: peak.mb,
    }
  } finally {
    await queue.obliterate({ force: true })
    await queue.close()
  }
}

/** Runs BullMQ, then sq in each configuration; figures in that order. */
export async function ioBound(options: Partial<IoBoundOptions> = {}): Promise<IoBoundFigures[]> {
  const o = { ...DEFAULTS, ...options }
  const redis = await ensureRedis()
  if ('unavailable' in redis) throw new Error(redis.unavailable)
  const figures = [await bullmqRun(o)]
  for (const kind of o.databases)
    for (const perProcess of o.tasksPerProcess) figures.push(await sqRun(kind, perProcess, o))
  return figures
}

/** The figures as a table, with ratios against the first row (BullMQ). */
export function ioBoundTable(figures: IoBoundFigures[]): string {
  const [base] = figures
  return table(
    ['runner', 'processes', 'first start → last end', 'vs BullMQ', 'peak PSS', 'vs BullMQ'],
    figures.map((f) => [
      f.runner,
      String(f.processes),
      `${num(f.spanMs)} ms`,
      ratio(f.spanMs, base?.spanMs),
      `${num(f.pssMb)} MB`,
      ratio(f.pssMb, base?.pssMb),
    ]),
  )
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const o = DEFAULTS
  try {
    process.stdout.write(`${o.tasks} tasks that each await a ${o.sleepMs} ms timer, concurrency ${o.concurrency}\n`)
    process.stdout.write(`${ioBoundTable(await ioBound(o))}\n`)
  } finally {
    await cleanup()
  }
}
