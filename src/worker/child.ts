/**
 * The entry point of a task process. It waits for run requests from its worker, imports the task's
 * module (TypeScript through tsx, no build step), calls the export, and reports output, progress and
 * the result. It never touches the database.
 */
import path from 'node:path'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { parseReference, resolveModule } from '../queue/reference.js'
import type { Progress } from '../types.js'
import { sentinel, type RunRequest, type ToWorker } from './protocol.js'

type Hooks = Partial<Record<'beforeJob' | 'onSuccess' | 'onFailure' | 'beforeLoop' | 'afterLoop', (...args: unknown[]) => unknown>>

const send = (message: ToWorker): Promise<void> =>
  new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()))

// Dies with its worker: when the IPC channel closes, the worker is gone; take the whole process
// group (grandchildren included) down with it.
process.on('disconnect', () => {
  try {
    process.kill(-process.pid, 'SIGKILL')
  } finally {
    process.exit(1)
  }
})

let tsxRegistered = false
async function importModule(specifier: string, isFile: boolean, root: string): Promise<Record<string, unknown>> {
  if (isFile && /\.[mc]?ts$/.test(specifier) && !tsxRegistered) {
    const [{ register }, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')])
    register()
    cjs.register()
    tsxRegistered = true
  }
  if (isFile) return import(pathToFileURL(specifier).href)
  // A package: resolved from the root, as the user's own code would resolve it.
  const require = createRequire(path.join(root, 'noop.js'))
  let resolved: string
  try {
    resolved = pathToFileURL(require.resolve(specifier)).href
  } catch {
    resolved = specifier
  }
  return import(resolved)
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack && error.stack.includes(error.message) ? error.stack : `${error.name}: ${error.message}\n${error.stack ?? ''}`
  try {
    return `Thrown value: ${JSON.stringify(error)}`
  } catch {
    return `Thrown value: ${String(error)}`
  }
}

/** A task's return value as stored output: strings as they are, nothing for undefined/null, else JSON. */
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

function isProgress(value: unknown): value is { progress: Progress } {
  return typeof value === 'object' && value !== null && 'progress' in value && typeof (value as { progress: unknown }).progress === 'object'
}

function isIterator(value: unknown): value is AsyncIterator<unknown> | Iterator<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as Iterator<unknown>).next === 'function' &&
    (Symbol.asyncIterator in value || Symbol.iterator in value)
}

const hookCache = new Map<string, Hooks>()
async function loadHooks(request: RunRequest): Promise<Hooks> {
  if (!request.hooks) return {}
  const cached = hookCache.get(request.hooks)
  if (cached) return cached
  const ref = parseReference(request.hooks)
  const where = resolveModule(ref, request.root)
  const mod = await importModule('file' in where ? where.file : where.packageName, 'file' in where, request.root)
  const hooks = mod as Hooks
  hookCache.set(request.hooks, hooks)
  return hooks
}

/** Runs a hook; one that throws is written to the task's log and changes nothing else. */
async function callHook(hooks: Hooks, name: keyof Hooks, ...args: unknown[]): Promise<void> {
  const hook = hooks[name]
  if (typeof hook !== 'function') return
  try {
    await hook(...args)
  } catch (error) {
    process.stderr.write(`[sq] hook ${name} threw: ${describeError(error)}\n`)
  }
}

async function run(request: RunRequest): Promise<ToWorker> {
  const cpuStart = process.cpuUsage()
  let peakRss = process.memoryUsage().rss
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50)
  const usage = () => {
    clearInterval(sampler)
    const cpu = process.cpuUsage(cpuStart)
    return { cpuMs: Math.round((cpu.user + cpu.system) / 1000), peakRss: Math.max(peakRss, process.memoryUsage().rss) }
  }
  const info = { id: request.id, task: request.task, args: request.args, attempt: request.attempt }
  let hooks: Hooks = {}
  try {
    hooks = await loadHooks(request).catch((error) => {
      process.stderr.write(`[sq] hooks module ${request.hooks} failed to load: ${describeError(error)}\n`)
      return {}
    })
    const ref = parseReference(request.task)
    const where = resolveModule(ref, request.root)
    const modulePath = 'file' in where ? where.file : where.packageName
    let mod: Record<string, unknown>
    try {
      mod = await importModule(modulePath, 'file' in where, request.root)
    } catch (error) {
      throw new Error(`Cannot load task module ${ref.module}: ${describeError(error)}`)
    }
    // A CommonJS module (a .cjs file, or .ts/.js outside a "type": "module" package) comes through
    // import() as its module.exports on `default`; its named exports live there.
    const cjs = mod.default
    if (!(ref.exportName in mod) && typeof cjs === 'object' && cjs !== null && ref.exportName in cjs) {
      mod = cjs as Record<string, unknown>
    }
    if (!(ref.exportName in mod)) {
      throw new Error(`Task module ${ref.module} has no export "${ref.exportName}" (exports: ${Object.keys(mod).join(', ') || 'none'})`)
    }
    const fn = mod[ref.exportName]
    if (typeof fn !== 'function') throw new Error(`Export "${ref.exportName}" of ${ref.module} is not a function (it is a ${typeof fn})`)
    await callHook(hooks, 'beforeJob', info)
    const result = await fn(request.args)
    let output: string | null
    if (isIterator(result)) {
      const iterator = result as AsyncIterator<unknown>
      let produced = ''
      for (let iteration = 0; ; iteration++) {
        await callHook(hooks, 'beforeLoop', info, iteration)
        const step = await iterator.next()
        if (step.done) break
        const value = step.value
        if (isProgress(value)) {
          await send({ type: 'progress', progress: value.progress })
        } else {
          const chunk = toOutput(value)
          if (chunk !== null) {
            produced += chunk
            await send({ type: 'output', data: chunk })
          }
        }
        await callHook(hooks, 'afterLoop', info, produced, iteration)
      }
      output = null // already streamed
    } else {
      output = toOutput(result)
    }
    await callHook(hooks, 'onSuccess', info)
    return { type: 'done', ok: true, output, ...usage() }
  } catch (error) {
    await callHook(hooks, 'onFailure', info, error)
    return { type: 'done', ok: false, error: describeError(error), ...usage() }
  }
}

process.on('message', async (message: RunRequest) => {
  if (message?.type !== 'run') return
  const outcome = await run(message)
  // The log of this run ends here: mark both pipes, then report, so the worker has all of it.
  const mark = sentinel(message.id, message.attempt)
  await Promise.all([
    new Promise((resolve) => process.stdout.write(mark, resolve)),
    new Promise((resolve) => process.stderr.write(mark, resolve)),
  ])
  await send(outcome)
})

void send({ type: 'ready' })
