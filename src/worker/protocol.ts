import type { Progress, TaskArgs } from '../types.js'

/**
 * Messages between the worker and a task process, over the IPC channel. A task process runs one task
 * at a time and is reused for the next; stdout and stderr travel on their own pipes, closed for each
 * run by a sentinel line so that the worker knows it has all of a run's log before it ends the run.
 */

export interface RunRequest {
  type: 'run'
  id: string
  attempt: number
  task: string
  args: TaskArgs
  root: string
  /** Module exporting beforeJob/onSuccess/onFailure/beforeLoop/afterLoop, relative to the root. */
  hooks: string | null
}

export type ToWorker =
  | { type: 'ready' }
  | { type: 'output'; data: string }
  | { type: 'progress'; progress: Progress }
  | { type: 'done'; ok: true; output: string | null; cpuMs: number; peakRss: number }
  | { type: 'done'; ok: false; error: string; cpuMs: number; peakRss: number }

/**
 * The task process's fd 4: a pipe whose other end only the worker holds, read by the task process's
 * watchdog (watchdog.ts), which sees it close when the worker dies, however it dies.
 */
export const LIFELINE_FD = 4

/** Written to stdout and stderr after each run; never shown, it only marks the end of a run's log. */
export function sentinel(id: string, attempt: number): string {
  return `\u0000sq-run-end:${id}:${attempt}\u0000\n`
}
