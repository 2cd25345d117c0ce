import { Box, Text } from 'ink'
import type { ListedStatus, ListedTask } from '../../src/monitor.js'
import { escapeControl, fitCell, formatDuration, rule, shortId, truncate } from '../format.js'
import { windowOf } from './layout.js'
import type { Frame } from './theme.js'

const TITLES: Record<ListedStatus, { title: string; none: string }> = {
  failed: { title: 'Recent failures', none: 'no recent failures' },
  queued: { title: 'Queued, longest waiting first', none: 'nothing queued' },
  completed: { title: 'Recently completed', none: 'no completed tasks' },
}

/** The lower list (Tab cycles it): failures with their error, queued tasks, completed ones with their output. */
export function TaskList(
  p: Frame & { status: ListedStatus; tasks: ListedTask[]; selectedId: string | null; rows: number },
) {
  const { status, tasks, selectedId, rows, width, theme } = p
  const { start, shown } = windowOf(tasks, selectedId, rows)
  const task = Math.min(30, Math.max(8, Math.floor((width - 24) * 0.35)))
  const agoWidth = 14
  const line = Math.max(0, width - 2 - 8 - 1 - task - 1 - agoWidth - 1)
  const { title, none } = TITLES[status]
  return (
    <Box flexDirection="column" width={width}>
      <Text bold color={theme[status]} wrap="truncate">
        {rule(
          `── ${title} ${tasks.length > rows ? `(${start + 1}-${start + shown.length} of ${tasks.length}) ` : ''}· Tab: next list `,
          width,
        )}
      </Text>
      {shown.length === 0 ? (
        <Text color={theme.dim}> {none}</Text>
      ) : (
        shown.map((t) => {
          const isSelected = t.id === selectedId
          return (
            <Text key={t.id} inverse={isSelected} wrap="truncate">
              {isSelected ? '▶ ' : '  '}
              {shortId(t.id)} {fitCell(escapeControl(t.task, false), task)}{' '}
              <Text color={theme.dim}>
                {fitCell(
                  status !== 'queued'
                    ? `${formatDuration(t.agoMs)} ago`
                    : t.delayMs
                      ? `runs in ${formatDuration(t.delayMs)}`
                      : `waiting ${formatDuration(t.agoMs)}`,
                  agoWidth,
                )}
              </Text>{' '}
              <Text color={status === 'failed' ? theme.failed : undefined}>
                {truncate(escapeControl(t.line, false), line)}
              </Text>
            </Text>
          )
        })
      )}
      {Math.max(1, shown.length) < rows ? <Box height={rows - Math.max(1, shown.length)} /> : null}
    </Box>
  )
}
