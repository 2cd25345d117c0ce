/**
 * The entry point of a task process: runs the batches its worker sends (protocol.ts). It never touches the
 * database; a task's `createTask` gets the worker's settings by environment, the URL's password by IPC.
 */
import { spawn } from 'node:child_process'
import { installRunContext } from '../current-task.js'
import { inheritDatabaseUrl } from '../inherited-database.js'
import { exportOf, importReferenced, loadTaskFunction } from '../loader.js'
import { parseStoredArgs } from '../queue/args.js'
import { parseReference } from '../queue/reference.js'
import { routeWrites } from './route-writes.js'
import { measureRun } from './run-usage.js'
import type { Progress, TaskArgs } from '../types.js'
import {
  LIFELINE_FD,
  sentinel,
  type RunRequest,
  SHARED_ARG,
  type StopReason,
  type TaskResult,
  type ToTaskProcess,
  type ToWorker,
} from './protocol.js'

type TaskFunction = (args: TaskArgs) => unknown

/** Runs share this process (`--tasks-per-process` above 1): each begins as it comes, in its own async context. */
const shared = process.argv.includes(SHARED_ARG)
const runContext = installRunContext(shared)

/**
 * The hooks module's functions (`hooks` / SQ_HOOKS), run in this order: beforeJob, beforeLoop and afterLoop
 * around each yield of a generator, onSuccess or onFailure. A process that dies runs none of them.
 */
const HOOK_NAMES = ['beforeJob', 'onSuccess', 'onFailure', 'beforeLoop', 'afterLoop'] as const
type Hooks = Partial<Record<(typeof HOOK_NAMES)[number], (...args: unknown[]) => unknown>>

const send = (message: ToWorker): Promise<void> =>
  new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()))

// The IPC channel closed: the worker is gone; so is the process group.
process.on('disconnect', () => {
  try {
    process.kill(-process.pid, 'SIGKILL')
  } finally {
    process.exit(1)
  }
})
// The watchdog, for a task that never yields to that handler: a shell in this group blocks reading the
// lifeline, whose other end only the worker holds; when the worker dies (kill -9 too) or closes it, the
// read returns and the shell SIGKILLs the group. (A worker_threads thread cost ~100 ms of CPU to start.)
spawn('/bin/sh', ['-c', `read -r _ <&${LIFELINE_FD}; kill -9 -${process.pid}`], {
  stdio: ['ignore', 'ignore', 'ignore', 'ignore', LIFELINE_FD],
})
  .on('error', (error) => process.stderr.write(`[sq] the task process's watchdog did not start: ${error.message}\n`))
  .unref()

/**
 * Task functions and hooks by reference, for the life of the process (importing per run cost more than a
 * no-op task). A failure is not kept; an edited module is not re-read (`--max-tasks-per-process` bounds it).
 */
const tasks = new Map<string, Promise<TaskFunction>>()
const hooksModules = new Map<string, Promise<Hooks>>()

function cached<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let value = cache.get(key)
  if (!value) {
    value = load()
    cache.set(key, value)
    value.catch(() => cache.delete(key))
  }
  return value
}

/** The hook functions a module exports, by the loader's one rule (so a CommonJS module works too). */
function hooksOf({ hooks, root }: RunRequest): Promise<Hooks> {
  if (!hooks) return Promise.resolve({})
  const load = async () => {
    const ns = await importReferenced(parseReference(hooks).module, root, 'process')
    const found = HOOK_NAMES.map((name) => [name, exportOf(ns, name)?.value] as const)
    return Object.fromEntries(found.filter(([, value]) => typeof value === 'function')) as Hooks
  }
  return cached(hooksModules, hooks, load).catch((error) => {
    process.stderr.write(`[sq] hooks module ${hooks} failed to load: ${describeError(error)}\n`)
    return {}
  })
}

/** Runs a hook; one that throws is written to the task's log and changes nothing else. */
async function callHook(hooks: Hooks, name: keyof Hooks, ...args: unknown[]): Promise<void> {
  try {
    await hooks[name]?.(...args)
  } catch (error) {
    process.stderr.write(`[sq] hook ${name} threw: ${describeError(error)}\n`)
  }
}

/** A thrown value as the task's `error`: the message and stack trace of an Error, else its JSON. */
function describeError(error: unknown): string {
  if (error instanceof Error)
    return error.stack?.includes(error.message) ? error.stack : `${error.name}: ${error.message}\n${error.stack ?? ''}`
  try {
    return `Thrown value: ${JSON.stringify(error)}`
  } catch {
    return `Thrown value: ${String(error)}`
  }
}

/** A task's return value (or a yield) as stored output: strings as they are, nothing for undefined/null, else JSON. */
function toOutput(value: unknown): string | null {
  if (value === undefined || value === null) return null
  if (typeof value === 'string') return value
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch (error) {
    throw new TypeError(`Task result cannot be serialised as JSON: ${(error as Error).message}`)
  }
  if (json === undefined) throw new TypeError(`Task result cannot be serialised as JSON: a ${typeof value}`)
  return json
}

/** A yield of `{ progress: { current, total, message } }`: structured progress, not output. */
function isProgress(value: unknown): value is { progress: Progress } {
  return typeof value === 'object' && typeof (value as { progress?: unknown } | null)?.progress === 'object'
}

/** What a generator task (sync or async) returns when called. */
function isIterator(value: unknown): value is AsyncIterator<unknown> | Iterator<unknown> {
  return (
    typeof value === 'object' &&
    typeof (value as Iterator<unknown> | null)?.next === 'function' &&
    (Symbol.asyncIterator in value! || Symbol.iterator in value!)
  )
}

/** Runs one task in its context (current-task.ts), which an `abort` message aborts. */
async function run(request: RunRequest): Promise<TaskResult> {
  const controller = new AbortController()
  controllers.set(request.id, controller)
  const { id, task, attempt } = request
  // The signal made only when asked for: an AbortSignal is an EventTarget, dear beside a no-op task.
  const current = {
    id,
    task,
    attempt,
    get signal() {
      return controller.signal
    },
  }
  try {
    return await runContext.run(current, () => runTask(request))
  } finally {
    controllers.delete(request.id)
  }
}

/** The runs begun and not done, to abort by id. */
const controllers = new Map<string, AbortController>()

const STOP_REASONS: Record<StopReason, string> = {
  timeout: 'the task timed out',
  lost: 'the task was cancelled or taken from its worker',
}

/** Runs one task: its hooks around it, each yield streamed to the worker as it comes. */
async function runTask(request: RunRequest): Promise<TaskResult> {
  const usage = measureRun()
  let args: TaskArgs
  try {
    args = parseStoredArgs(request.args)
  } catch (error) {
    // A row put in the table by another writer: this run fails, not its batch; no hook is told.
    return { kind: 'threw', error: (error as Error).message, ...usage() }
  }
  const hooks = await hooksOf(request)
  // The output so far, kept only for hooks to see.
  const tracked = Object.keys(hooks).length > 0
  let produced: string | null = null
  // What a hook is told of its task, like the seed's Task instance; onFailure also gets `error`.
  const about = { id: request.id, task: request.task, args, attempt: request.attempt }
  const view = (status: 'progress' | 'completed' | 'failed', output = produced) => ({ ...about, status, output })
  try {
    await callHook(hooks, 'beforeJob', view('progress'))
    const task = await cached(tasks, request.task, () => loadTaskFunction(request.task, request.root, 'process'))
    const result = await task(args)
    if (!isIterator(result)) {
      const output = toOutput(result)
      await callHook(hooks, 'onSuccess', view('completed', output))
      return { kind: 'completed', output, ...usage() }
    }
    for (let iteration = 0; ; iteration++) {
      const step = await result.next()
      if (step.done) break
      await callHook(hooks, 'beforeLoop', view('progress'), iteration)
      if (isProgress(step.value)) {
        await send({ type: 'progress', id: request.id, progress: step.value.progress })
      } else {
        const chunk = toOutput(step.value)
        if (chunk !== null) {
          if (tracked) produced = (produced ?? '') + chunk
          await send({ type: 'output', id: request.id, data: chunk })
        }
      }
      await callHook(hooks, 'afterLoop', view('progress'), step.value, iteration)
    }
    await callHook(hooks, 'onSuccess', view('completed'))
    return { kind: 'completed', output: null, ...usage() } // the output went as it was yielded
  } catch (error) {
    const text = describeError(error)
    await callHook(hooks, 'onFailure', { ...view('failed'), error: text }, error)
    return { kind: 'threw', error: text, ...usage() }
  }
}

/** Runs handed over and not begun, in order. */
const pending: RunRequest[] = []
let busy = false

async function runPending(): Promise<void> {
  busy = true
  for (let request = pending.shift(); request; ) {
    const result = await run(request)
    const mark = sentinel(request.id, request.attempt)
    await Promise.all([process.stdout, process.stderr].map((pipe) => new Promise((done) => pipe.write(mark, done))))
    const done: ToWorker = { type: 'done', id: request.id, result }
    // In the same turn as `done`, which tells the worker it has begun: a later `skip` must not find it.
    request = pending.shift()
    void send(done)
  }
  busy = false
}

/** Shared: each run begins as it comes (the worker hands no more than --tasks-per-process at once). */
async function runNow(request: RunRequest): Promise<void> {
  const result = await run(request)
  void send({ type: 'done', id: request.id, result })
}

if (shared) {
  // A timer a finished run left keeps the run's context, not its log.
  const toRunLog = (data: string) => {
    const run = runContext.getStore()
    return run && controllers.has(run.id) ? send({ type: 'log', id: run.id, data }) : undefined
  }
  routeWrites(process.stdout, toRunLog)
  routeWrites(process.stderr, toRunLog)
}

process.on('message', (message: ToTaskProcess) => {
  if (message?.type === 'database') {
    inheritDatabaseUrl(message.url)
  } else if (message?.type === 'runs') {
    if (shared) {
      for (const request of message.runs) void runNow(request)
      return
    }
    pending.push(...message.runs)
    if (!busy) void runPending()
  } else if (message?.type === 'abort') {
    controllers.get(message.id)?.abort(new Error(`sq: ${STOP_REASONS[message.reason]}`))
  } else if (message?.type === 'skip') {
    const skipped = message.ids.filter((id) => {
      const at = pending.findIndex((r) => r.id === id)
      if (at !== -1) pending.splice(at, 1)
      return at !== -1
    })
    void send({ type: 'skipped', ids: skipped })
  }
})

void send({ type: 'ready' })
