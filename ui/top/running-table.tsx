import { Box, Text } from 'ink'
import type { RunningTask } from '../../src/monitor.js'
import { escapeControl, fitCell, formatElapsed, progressBar, rule, shortId, structured } from '../format.js'
import { windowOf } from './layout.js'
import type { Frame } from './theme.js'

/** A running task past this share of its timeout has its elapsed time drawn in the warning colour. */
const NEAR_TIMEOUT = 0.8

/** Column widths for a terminal `width` wide; the worker column goes first when it is narrow. */
function runningColumns(width: number, timeoutSeconds: number) {
  const elapsed = timeoutSeconds > 0 ? 13 : 7
  const worker = width >= 70 ? Math.min(22, Math.max(12, Math.floor(width * 0.16))) : 0
  const fixed = 2 + 8 + 1 + (worker ? worker + 1 : 0) + elapsed + 1
  const rest = Math.max(10, width - fixed)
  const task = Math.min(40, Math.max(8, Math.floor(rest * 0.55)))
  return { id: 8, task, worker, elapsed, last: Math.max(0, rest - task - 1) }
}

function row(cells: Array<[string, number]>): string {
  return cells
    .filter(([, w]) => w > 0)
    .map(([t, w]) => fitCell(t, w))
    .join(' ')
}

/** The tasks in progress; `total` counts them all (the list may be capped or filtered). */
export function RunningTable(
  p: Frame & {
    tasks: RunningTask[]
    total: number
    selectedId: string | null
    rows: number
    timeoutSeconds: number
    filter: string
  },
) {
  const { tasks, selectedId, rows, width, timeoutSeconds, filter, theme } = p
  const c = runningColumns(width, timeoutSeconds)
  const { start, shown } = windowOf(tasks, selectedId, rows)
  const more = tasks.length - start - shown.length
  const title = `Running (${p.total})${filter ? `  filter: ${escapeControl(filter, false)}` : ''}${start > 0 ? `  ↑${start}` : ''}${more > 0 ? `  ↓${more}` : ''}`
  return (
    <Box flexDirection="column" width={width}>
      <Text bold color={theme.title} wrap="truncate">
        {rule(`── ${title} `, width)}
      </Text>
      <Text color={theme.dim} wrap="truncate">
        {'  ' +
          row([
            ['ID', c.id],
            ['TASK', c.task],
            ['WORKER', c.worker],
            [timeoutSeconds > 0 ? 'ELAPSED/LIMIT' : 'ELAPSED', c.elapsed],
            ['LAST OUTPUT', c.last],
          ])}
      </Text>
      {shown.length === 0 ? (
        <Text color={theme.dim}>{filter ? '  no running task matches the filter' : '  no running tasks'}</Text>
      ) : (
        shown.map((t) => {
          const isSelected = t.id === selectedId
          const late = timeoutSeconds > 0 && t.elapsedMs > timeoutSeconds * 1000 * NEAR_TIMEOUT
          // Structured progress as a short bar, then the last output line (or the progress message).
          const bar = progressBar(t.progress, 5)
          const text = escapeControl(t.lastLine || structured(t.progress)?.message || '', false)
          const last = bar ? `${bar} ${text}`.trim() : text
          return (
            <Text key={t.id} inverse={isSelected} wrap="truncate">
              {isSelected ? '▶ ' : '  '}
              {fitCell(shortId(t.id), c.id)} {fitCell(escapeControl(t.task, false), c.task)}{' '}
              {c.worker ? `${fitCell(escapeControl(t.worker ?? '-', false), c.worker)} ` : ''}
              <Text color={late ? theme.warn : undefined}>
                {fitCell(formatElapsed(t.elapsedMs, timeoutSeconds), c.elapsed)}
              </Text>{' '}
              {fitCell(last, c.last)}
            </Text>
          )
        })
      )}
      {Math.max(1, shown.length) < rows ? <Box height={rows - Math.max(1, shown.length)} /> : null}
    </Box>
  )
}
