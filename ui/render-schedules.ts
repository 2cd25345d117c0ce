import type { ScheduleInfo } from '../src/queue/schedules.js'
import { escapeControl, shortId } from './format.js'
import { plainTable, withoutTrailingSpaces } from './plain-table.js'

/** `sq schedules` as text: one row per schedule, columns two spaces apart, no trailing spaces. */
export async function renderSchedules(schedules: ScheduleInfo[]): Promise<string> {
  if (schedules.length === 0) return 'No schedules (define them in sq.config.* as schedules: [{ name, cron, task }]).'
  const when = (iso: string | null) => (iso === null ? '-' : iso.replace(/\.000Z$/, 'Z'))
  const rows = schedules.map((s) => [
    escapeControl(s.name, false),
    s.timezone ? `${s.cron} (${s.timezone})` : s.cron,
    escapeControl(s.task, false),
    s.queue,
    when(s.last_run),
    s.last_task_id === null ? '-' : shortId(s.last_task_id),
    when(s.next_run),
  ])
  const head = ['NAME', 'CRON', 'TASK', 'QUEUE', 'LAST RUN', 'LAST TASK', 'NEXT RUN']
  return withoutTrailingSpaces(await plainTable([head, ...rows]))
}
