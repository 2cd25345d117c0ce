import type { Task } from '../src/types.js'
import { firstNonBlankLine } from '../src/display-text.js'
import { escapeControl, formatDuration, shortId, statusLabel, truncate } from './format.js'
import { plainTable, withoutTrailingSpaces } from './plain-table.js'

const HEAD = ['ID', 'STATUS', 'TASK', 'MODIFIED', 'OUTPUT / ERROR']

/**
 * `sq list`'s table. Its head is bold on a terminal (unless NO_COLOR), which cli-table3 draws, judging
 * for itself whether the terminal takes colour; without, plainTable draws the same table without it.
 */
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
