import type { Progress } from '../types.js'

/**
 * Messages between the worker and a task process, over the IPC channel. The worker hands a task
 * process a batch of runs in one message; the process runs them one at a time, in order, and reports
 * each run's end with `done`, which also tells the worker that the next run of the batch has begun
 * (the process takes the next run at the moment it sends `done`). Runs not yet begun can be taken
 * back with `skip`; `skipped` names those the process dropped (the others had begun). stdout and
 * stderr travel on their own pipes, closed for each run by a sentinel line so that the worker knows
 * it has all of a run's log before it ends the run.
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
  /** First of all, when there is one: the worker's database URL, password included (inherited-database.ts). */
  | { type: 'database'; url: string }

/** How a run ended in its task process, with the CPU time and peak memory it used. */
export type TaskResult = ({ kind: 'completed'; output: string | null } | { kind: 'threw'; error: string }) & {
  cpuMs: number
  peakRss: number
}

/** `output` and `progress` belong to the run the process is on: the oldest begun run without `done`. */
export type ToWorker =
  | { type: 'ready' }
  | { type: 'output'; data: string }
  | { type: 'progress'; progress: Progress }
  | { type: 'done'; id: string; result: TaskResult }
  | { type: 'skipped'; ids: string[] }

/**
 * The task process's fd 4: a pipe whose other end only the worker holds, read by the task process's
 * watchdog (watchdog.ts), which sees it close when the worker dies, however it dies.
 */
export const LIFELINE_FD = 4

/** Written to stdout and stderr after each run; never shown, it only marks the end of a run's log. */
export function sentinel(id: string, attempt: number): string {
  return `\u0000sq-run-end:${id}:${attempt}\u0000\n`
}

/**
 * Where the longest tail of `text` that begins `mark` starts (text.length when none does): what a
 * reader of a pipe must hold back, because the sentinel may arrive split across reads. The sentinel
 * starts with a NUL, so only a NUL can begin it; a task's own NULs are held back only while what
 * follows them still reads as the sentinel's start.
 */
export function sentinelPrefixAt(text: string, mark: string): number {
  for (let at = Math.max(0, text.length - mark.length + 1); at < text.length; at++) {
    if (text.charCodeAt(at) === 0 && mark.startsWith(text.slice(at))) return at
  }
  return text.length
}
