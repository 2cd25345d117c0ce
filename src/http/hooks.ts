/**
 * What the dashboard shows and does beyond the core it already reads: filled in by whoever starts the
 * server (commands/serve.ts). Each one absent means its section or buttons are absent.
 *
 * LEAD: schedules and pause/resume come from h-ops' branch. After merging, pass them from
 * commands/serve.ts, e.g. `{ schedules: () => listSchedules(queue), pausedQueues: () => …,
 * pauseQueue: (q) => pauseQueue(queue, q), resumeQueue: (q) => resumeQueue(queue, q) }`.
 */
export interface DashboardHooks {
  /** Rows for the Schedules section (rendered as a table of their fields, as `sq schedules --json` prints them). */
  schedules?: () => Promise<Array<Record<string, unknown>>>
  /** Names of the paused queues, marked in the queue table. */
  pausedQueues?: () => Promise<string[]>
  /** POST /api/queues/:queue/pause (with --allow-actions); resolves to a one-line report. */
  pauseQueue?: (queue: string) => Promise<string>
  /** POST /api/queues/:queue/resume (with --allow-actions); resolves to a one-line report. */
  resumeQueue?: (queue: string) => Promise<string>
}
