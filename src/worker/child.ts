/**
 * The entry point of a task process. It waits for batches of runs from its worker, runs them one by
 * one in order, calls each task's export (loaded once per reference, see loader.ts), and reports output, progress and the result. It
 * never touches the database itself; a task that calls `createTask` finds its worker's settings in the
 * environment (SQ_DATABASE_URL, SQ_ROOT, …), and the database URL's password as the worker hands it
 * over (inherited-database.ts).
 */
import { inheritDatabaseUrl } from '../inherited-database.js'
import { loadTaskFunction } from '../loader.js'
import { parseStoredArgs } from '../queue/args.js'
import type { TaskArgs } from '../types.js'
import { callHook, loadHooks, type Hooks, type HookTask } from './hooks.js'
import { sentinel, type RunDone, type RunRequest, type ToTaskProcess, type ToWorker } from './protocol.js'
import { measureRun } from './run-usage.js'
import { describeError, isIterator, isProgress, toOutput } from './run-values.js'
import { startWatchdog } from './watchdog.js'

type TaskFunction = (args: TaskArgs) => unknown

const send = (message: ToWorker): Promise<void> =>
  new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()))

// Dies with its worker: when the IPC channel closes, the worker is gone; take the whole process
// group (grandchildren included) down with it. The watchdog does the same for a task that never
// lets this handler run.
process.on('disconnect', () => {
  try {
    process.kill(-process.pid, 'SIGKILL')
  } finally {
    process.exit(1)
  }
})
startWatchdog()

/**
 * Task functions and hooks by reference, for the life of the process: resolving and importing again
 * for every run cost more than a no-op task. A failure is not kept, so a module that appears later is
 * found. (An edited module is not re-read: `sq worker --max-tasks-per-process` bounds this.)
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

function taskFunction(request: RunRequest): Promise<TaskFunction> {
  return cached(tasks, request.task, () => loadTaskFunction(request.task, request.root, 'process'))
}

function hooksOf(request: RunRequest): Promise<Hooks> {
  if (!request.hooks) return Promise.resolve({})
  return cached(hooksModules, request.hooks, () => loadHooks(request.hooks!, request.root)).catch((error) => {
    process.stderr.write(`[sq] hooks module ${request.hooks} failed to load: ${describeError(error)}\n`)
    return {}
  })
}

/** Runs one task: its hooks around it, each yield streamed to the worker as it comes. */
async function run(request: RunRequest): Promise<RunDone> {
  const usage = measureRun()
  let args: TaskArgs
  try {
    args = parseStoredArgs(request.args)
  } catch (error) {
    // A row put in the table by another writer: this run fails, not the batch it came in; no hook
    // is told of args the task could not have.
    return { type: 'done', id: request.id, ok: false, error: (error as Error).message, ...usage() }
  }
  const hooks = await hooksOf(request)
  // The seed's hooks see the task as it stands; only then is the output kept here as well.
  const tracked = Object.keys(hooks).length > 0
  let produced: string | null = null
  const view = (status: HookTask['status'], output = produced): HookTask => ({
    id: request.id,
    task: request.task,
    args,
    attempt: request.attempt,
    status,
    output,
  })
  try {
    await callHook(hooks, 'beforeJob', view('progress'))
    const result = await (await taskFunction(request))(args)
    if (!isIterator(result)) {
      const output = toOutput(result)
      await callHook(hooks, 'onSuccess', view('completed', output))
      return { type: 'done', id: request.id, ok: true, output, ...usage() }
    }
    for (let iteration = 0; ; iteration++) {
      const step = await result.next()
      if (step.done) break
      await callHook(hooks, 'beforeLoop', view('progress'), iteration)
      if (isProgress(step.value)) {
        await send({ type: 'progress', progress: step.value.progress })
      } else {
        const chunk = toOutput(step.value)
        if (chunk !== null) {
          if (tracked) produced = (produced ?? '') + chunk
          await send({ type: 'output', data: chunk })
        }
      }
      await callHook(hooks, 'afterLoop', view('progress'), step.value, iteration)
    }
    await callHook(hooks, 'onSuccess', view('completed'))
    return { type: 'done', id: request.id, ok: true, output: null, ...usage() } // the output went as it was yielded
  } catch (error) {
    const text = describeError(error)
    await callHook(hooks, 'onFailure', { ...view('failed'), error: text }, error)
    return { type: 'done', id: request.id, ok: false, error: text, ...usage() }
  }
}

/** Runs handed over and not begun, in order. */
const pending: RunRequest[] = []
let busy = false

async function runPending(): Promise<void> {
  busy = true
  for (let request = pending.shift(); request; ) {
    const done = await run(request)
    // The log of this run ends here: mark both pipes, then report, so the worker has all of it.
    const mark = sentinel(request.id, request.attempt)
    await Promise.all([
      new Promise((resolve) => process.stdout.write(mark, resolve)),
      new Promise((resolve) => process.stderr.write(mark, resolve)),
    ])
    // The next run is taken in the same turn as `done` is sent: the worker counts it begun from `done`
    // on, so a `skip` read after this must not find it.
    request = pending.shift()
    void send(done)
  }
  busy = false
}

process.on('message', (message: ToTaskProcess) => {
  if (message?.type === 'database') {
    inheritDatabaseUrl(message.url)
  } else if (message?.type === 'runs') {
    pending.push(...message.runs)
    if (!busy) void runPending()
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
