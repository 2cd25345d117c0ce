import type { Progress } from '../types.js'

/**
 * Messages between the worker and a task process, over the IPC channel. One run at a time (the default), the
 * process runs a batch's runs in order; `done` ends one and begins the next; `skip` takes back runs not yet
 * begun, `skipped` names those dropped; stdout and stderr have their own pipes, where a sentinel line ends
 * each run's log. Shared (`--tasks-per-process` above 1), it begins each run as it comes, and what a run
 * writes comes as its `log` messages. `abort` asks a run to stop (its AbortSignal, current-task.ts).
 */

export interface RunRequest {
  type: 'run'
  id: string
  attempt: number
  task: string
  /** The args as stored: JSON text, parsed by the task process, so that a bad row fails only its own run. */
  args: string
  root: string
  /** Module exporting beforeJob/onSuccess/onFailure/beforeLoop/afterLoop, relative to the root. */
  hooks: string | null
}

export type ToTaskProcess =
  | { type: 'runs'; runs: RunRequest[] }
  | { type: 'skip'; ids: string[] }
  | { type: 'abort'; id: string; reason: StopReason }
  /** First of all, when there is one: the worker's database URL, password included (inherited-database.ts). */
  | { type: 'database'; url: string }

/** How a run ended in its task process, with the CPU time and peak memory it used. */
export type TaskResult = ({ kind: 'completed'; output: string | null } | { kind: 'threw'; error: string }) & {
  cpuMs: number
  peakRss: number
}

/** Why the worker asks a run to stop: its time ran out, or its task is no longer its (cancel). */
export type StopReason = 'timeout' | 'lost'

export type ToWorker =
  | { type: 'ready' }
  | { type: 'output'; id: string; data: string }
  | { type: 'progress'; id: string; progress: Progress }
  /** Shared processes only: what a run wrote to stdout or stderr. */
  | { type: 'log'; id: string; data: string }
  | { type: 'done'; id: string; result: TaskResult }
  | { type: 'skipped'; ids: string[] }

/** The task process's argument that makes it shared: it runs the runs it is handed at once. */
export const SHARED_ARG = '--shared'

/** The task process's fd 4: a pipe only the worker writes to, read by its watchdog (child.ts). */
export const LIFELINE_FD = 4

/** Written to stdout and stderr after each run; never shown, it only marks the end of a run's log. */
export function sentinel(id: string, attempt: number): string {
  return `\u0000sq-run-end:${id}:${attempt}\u0000\n`
}

/**
 * Where the longest tail of `text` that begins `mark` starts (text.length when none does): what a pipe's
 * reader holds back, as the sentinel may come split across reads. Only a NUL can begin it.
 */
export function sentinelPrefixAt(text: string, mark: string): number {
  for (let at = Math.max(0, text.length - mark.length + 1); at < text.length; at++) {
    if (text.charCodeAt(at) === 0 && mark.startsWith(text.slice(at))) return at
  }
  return text.length
}
