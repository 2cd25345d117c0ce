import { importReferenced, exportOf } from '../loader.js'
import { parseReference } from '../queue/reference.js'
import type { TaskArgs } from '../types.js'
import { describeError } from './run-values.js'

/**
 * The seed's signals, as functions of the hooks module (`hooks` / SQ_HOOKS). They run in the task
 * process, in this order: beforeJob, then for each yield of a generator beforeLoop and afterLoop, then
 * onSuccess or onFailure. A task process that dies (timeout, crash, cancel) runs none of them.
 */
export const HOOK_NAMES = ['beforeJob', 'onSuccess', 'onFailure', 'beforeLoop', 'afterLoop'] as const
export type HookName = (typeof HOOK_NAMES)[number]
export type Hooks = Partial<Record<HookName, (...args: unknown[]) => unknown>>

/** What a hook is told of its task, like the seed's Task instance: its status and output so far. */
export interface HookTask {
  id: string
  task: string
  args: TaskArgs
  attempt: number
  /** `progress` while it runs; then how this run ended (a failed run with attempts left is queued again). */
  status: 'progress' | 'completed' | 'failed'
  /** The output so far (the result's, once completed); null when there is none. */
  output: string | null
  /** The error's message and stack, for onFailure. */
  error?: string
}

/** The hook functions a module exports, by the loader's one rule (so a CommonJS module works too). */
export async function loadHooks(reference: string, root: string): Promise<Hooks> {
  const ns = await importReferenced(parseReference(reference).module, root, 'process')
  const hooks: Hooks = {}
  for (const name of HOOK_NAMES) {
    const value = exportOf(ns, name)?.value
    if (typeof value === 'function') hooks[name] = value as (...args: unknown[]) => unknown
  }
  return hooks
}

/** Runs a hook; one that throws is written to the task's log and changes nothing else. */
export async function callHook(hooks: Hooks, name: HookName, ...args: unknown[]): Promise<void> {
  const hook = hooks[name]
  if (!hook) return
  try {
    await hook(...args)
  } catch (error) {
    process.stderr.write(`[sq] hook ${name} threw: ${describeError(error)}\n`)
  }
}
