import { firstNonBlankLine } from '../src/display-text.js'
import type { ScheduleInfo } from '../src/queue/schedules.js'
import type { Task } from '../src/types.js'
import { escapeControl, formatDuration, shortId, statusLabel, truncate } from './format.js'

/**
 * The table cli-table3 draws with BARE chars and no style, drawn directly: cli-table3 is most of what a
 * one-shot `sq list` would load. Widths as cli-table3 measures them (string-width, loaded for non-ASCII
 * only); for escaped one-line cells. A test holds it to cli-table3's output.
 */
export async function plainTable(rows: string[][]): Promise<string> {
  const plain = (cell: string) => /^[\x20-\x7e]*$/.test(cell)
  const width = rows.every((row) => row.every(plain))
    ? (cell: string) => cell.length
    : (await import('string-width')).default
  // cli-table3 gives an empty column a width of one.
  const widths = rows[0]!.map((_, c) => Math.max(1, ...rows.map((row) => width(row[c]!))))
  return rows.map((row) => row.map((cell, c) => cell + ' '.repeat(widths[c]! - width(cell))).join('  ')).join('\n')
}

/** cli-table3 pads every cell to its column's width, the last one too: spaces a diff or a grep trips on. */
export function withoutTrailingSpaces(text: string): string {
  return text.replace(/[ \t]+$/gm, '')
}

const HEAD = ['ID', 'STATUS', 'TASK', 'MODIFIED', 'OUTPUT / ERROR']

/** `sq list`'s table: cli-table3's with a bold head on a terminal (unless NO_COLOR), else plainTable's. */
export async function renderTaskTable(
  tasks: Task[],
  width = process.stdout.columns || 120,
  color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
): Promise<string> {
  if (tasks.length === 0) return 'No tasks.'
  const summaryWidth = Math.max(12, width - 8 - 13 - 30 - 14 - 16)
  const rows = tasks.map((t) => [
    escapeControl(shortId(t.id), false),
    statusLabel(t.status),
    truncate(escapeControl(t.task, false), 30),
    `${formatDuration(Date.now() - Date.parse(t.modified))} ago`,
    truncate(escapeControl(firstNonBlankLine(t.status === 'failed' ? t.error : t.output), false), summaryWidth),
  ])
  const text = color
    ? (await import('./render-text.js')).tableOf(HEAD, rows, { boldHead: true })
    : await plainTable([HEAD, ...rows])
  return withoutTrailingSpaces(text)
}

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
