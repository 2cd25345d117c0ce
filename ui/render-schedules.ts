import type { ScheduleInfo } from '../src/queue/schedules.js'
import { escapeControl, shortId } from './format.js'

/** `sq schedules` as text: one row per schedule, columns two spaces apart, no trailing spaces. */
export function renderSchedules(schedules: ScheduleInfo[]): string {
  if (schedules.length === 0) return 'No schedules (define them in sq.config.* as schedules: [{ name, cron, task }]).'
  const when = (iso: string | null) => (iso === null ? '-' : iso.replace(/\.000Z$/, 'Z'))
  const rows = [
    ['NAME', 'CRON', 'TASK', 'QUEUE', 'LAST RUN', 'LAST TASK', 'NEXT RUN'],
    ...schedules.map((s) => [
      escapeControl(s.name, false),
      s.timezone ? `${s.cron} (${s.timezone})` : s.cron,
      escapeControl(s.task, false),
      s.queue,
      when(s.last_run),
      s.last_task_id === null ? '-' : shortId(s.last_task_id),
      when(s.next_run),
    ]),
  ]
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}
