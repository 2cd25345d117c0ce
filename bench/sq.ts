/**
 * sq measured through its built CLI (`bin/run.js`) and its library API, as its users run it. Every
 * figure comes from sq's own records: throughput from the first task's start to the last one's end
 * (steady state: the worker's start-up is paid once, not per task), pickup from created → started.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { openQueue, type Queue } from '../src/index.js'
import { copySqlite, createPgDatabase, dropPgDatabase, pgUrl, removeSqlite, scratch, sqliteFile } from './env.js'
import type { IdleTarget } from './idle.js'
import { onceOk, sleep, steadyRate, waitUntil, withTimeout } from './process.js'

export type Kind = 'sqlite' | 'postgres'
export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/run.js')

/** An sq build to measure: this checkout's, or another commit's (bench/baseline.ts). */
export interface Build {
  label: string
  /** Its `bin/run.js`. */
  bin: string
  /** Its library's openQueue: a store is filled by the build that runs it. */
  openQueue: typeof openQueue
}

export const THIS_BUILD: Build = { label: 'this checkout', bin: BIN, openQueue }

/** A scratch sq database; `drop` removes it. */
export interface Store {
  url: string
  drop(): Promise<void>
}

let files = 0

/** An empty store, or a copy of `template` (a closed one). */
export async function freshStore(kind: Kind, template?: string): Promise<Store> {
  if (kind === 'sqlite') {
    const file = sqliteFile(`sq${++files}`)
    if (template) copySqlite(template, file)
    return { url: file, drop: async () => removeSqlite(file) }
  }
  const name = await createPgDatabase('sq', template)
  return { url: pgUrl(name), drop: () => dropPgDatabase(name) }
}

const open = (url: string, build = THIS_BUILD) => build.openQueue({ db: url, root: scratch() })

async function enqueueNoops(q: Queue, n: number): Promise<void> {
  // sq has no bulk enqueue: one enqueue (one transaction) per task.
  for (let i = 0; i < n; i++) await q.enqueue({ task: 'tasks#noop' })
}

const templates = new Map<string, () => Promise<string>>()

/**
 * A closed database holding n queued no-op tasks, filled once through the library and copied for each
 * run (a file copy, or CREATE DATABASE … TEMPLATE): a PostgreSQL enqueue is one commit, ~2 ms here, so
 * refilling 5,000 tasks per run would cost more than the runs. Returns the file or database name.
 */
export function filledTemplate(kind: Kind, n: number, build = THIS_BUILD): Promise<string> {
  const key = `${build.label}:${kind}:${n}`
  let template = templates.get(key)
  if (!template) {
    template = onceOk(async () => {
      const tag = `${build === THIS_BUILD ? 'template' : 'baseline'}${n}`
      const name = kind === 'sqlite' ? sqliteFile(tag) : await createPgDatabase(`sq_${tag}`)
      if (kind === 'sqlite') removeSqlite(name) // a fill cut short
      const q = await open(kind === 'sqlite' ? name : pgUrl(name), build)
      try {
        await enqueueNoops(q, n)
      } finally {
        await q.close()
      }
      return name
    })
    templates.set(key, template)
  }
  return template()
}

/**
 * Starts `sq worker`; `exited` rejects when it fails. `stop()` sends SIGTERM: the worker finishes the
 * tasks it runs and exits 0 — or, were it already on its way out, dies of the signal, which is fine too.
 */
export function startWorker(url: string, args: string[], bin = BIN) {
  const child = spawn(process.execPath, [bin, 'worker', '--db', url, ...args], {
    cwd: scratch(),
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  let stopping = false
  const exited = once(child, 'exit').then(([code, signal]) => {
    if (code !== 0 && !(stopping && signal === 'SIGTERM')) {
      throw new Error(`sq worker exited ${code ?? signal}: ${stderr.trim()}`)
    }
  })
  const stop = () => {
    stopping = true
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
  }
  return { pid: child.pid!, exited, stop }
}

/**
 * No-op tasks/s of `sq worker --burst -c c` over n queued tasks. Not done runMs after its first
 * completed task, it gets SIGTERM: it finishes the tasks it runs and exits.
 */
export async function sqThroughput(
  kind: Kind,
  c: number,
  n: number,
  runMs: number,
  build = THIS_BUILD,
): Promise<number> {
  const store = await freshStore(kind, await filledTemplate(kind, n, build))
  const q = await open(store.url, build)
  try {
    const { exited, stop } = startWorker(store.url, ['--burst', '--concurrency', String(c)], build.bin)
    let ended = false
    exited.then(
      () => (ended = true),
      () => (ended = true),
    )
    const started = async () => ended || (await q.list({ statuses: ['completed'], limit: 1 })).length > 0
    await waitUntil(started, 'sq worker to complete a first task', 120_000)
    // --burst exits once the queue is empty: that is the end of the run, unless time is up first.
    await Promise.race([exited, sleep(runMs)])
    stop()
    await exited
    const tasks = await q.list({ statuses: ['completed'], limit: n })
    return steadyRate(tasks.map((t) => [Date.parse(t.started!), Date.parse(t.finished!)]))
  } finally {
    await q.close()
    await store.drop()
  }
}

/** An idle `sq worker` (not --burst) on a fresh database. */
export function sqIdle(kind: Kind): IdleTarget {
  let store: Store | undefined
  let q: Queue | undefined
  let worker: ReturnType<typeof spawn> | undefined
  return {
    async start(c) {
      store = await freshStore(kind)
      q = await open(store.url) // creates the schema before the worker starts
      const args = [BIN, 'worker', '--concurrency', String(c), '--db', store.url]
      worker = spawn(process.execPath, args, { cwd: scratch(), stdio: 'ignore' })
      return worker.pid!
    },
    async pickup() {
      const { id } = await q!.enqueue({ task: 'tasks#noop' })
      const task = await withTimeout(
        q!.follow(id, () => {}, { pollMs: 5 }),
        60_000,
        'sq worker to run one task',
      )
      return Date.parse(task.started!) - Date.parse(task.created)
    },
    async load(n) {
      await enqueueNoops(q!, n)
      const idle = async () => (await q!.list({ statuses: ['queued', 'progress'], limit: 1 })).length === 0
      await waitUntil(idle, 'sq to run its tasks', 600_000, 50)
    },
    async stop() {
      if (worker && worker.exitCode === null) {
        const gone = once(worker, 'exit')
        worker.kill('SIGTERM')
        await gone
      }
      await q?.close()
      await store?.drop()
    },
  }
}

/** The run time (duration_ms) of one task yielding `yields` lines: its appends must stay linear. */
export async function generatorMs(kind: Kind, yields: number): Promise<number> {
  const store = await freshStore(kind)
  try {
    const q = await open(store.url)
    const { id } = await q.enqueue({ task: 'tasks#gen', args: { n: yields } })
    await startWorker(store.url, ['--burst']).exited
    const task = await q.get(id)
    await q.close()
    if (task.status !== 'completed' || !task.output?.endsWith(`line ${yields - 1}\n`)) {
      throw new Error(`generator task ${task.status}`)
    }
    return task.duration_ms!
  } finally {
    await store.drop()
  }
}
