import { Box, Text } from 'ink'
import type { FailedTask } from '../../src/monitor.js'
import { escapeControl, fitCell, rule, formatDuration, shortId, truncate } from '../format.js'
import { windowStart } from './layout.js'
import type { Theme } from './theme.js'

export interface FailuresProps {
  failures: FailedTask[]
  selectedId: string | null
  rows: number
  width: number
  theme: Theme
}

/** The latest failures, newest first, with the first line of each error. */
export function Failures({ failures, selectedId, rows, width, theme }: FailuresProps) {
  const selected = failures.findIndex((f) => f.id === selectedId)
  const start = windowStart(failures.length, selected, rows)
  const shown = failures.slice(start, start + rows)
  const task = Math.min(30, Math.max(8, Math.floor((width - 24) * 0.35)))
  const error = Math.max(0, width - 2 - 8 - 1 - task - 1 - 10 - 1)
  return (
    <Box flexDirection="column" width={width}>
      <Text bold color={theme.failed} wrap="truncate">
        {rule('── Recent failures ', width)}
      </Text>
      {shown.length === 0 ? (
        <Text color={theme.dim}>  no recent failures</Text>
      ) : (
        shown.map((f) => {
          const isSelected = f.id === selectedId
          return (
            <Text key={f.id} inverse={isSelected} wrap="truncate">
              {isSelected ? '▶ ' : '  '}
              {shortId(f.id)} {fitCell(escapeControl(f.task, false), task)}{' '}
              <Text color={theme.dim}>{fitCell(`${formatDuration(f.agoMs)} ago`, 10)}</Text>{' '}
              <Text color={theme.failed}>{truncate(escapeControl(f.errorLine, false), error)}</Text>
            </Text>
          )
        })
      )}
      {Math.max(1, shown.length) < rows ? <Box height={rows - Math.max(1, shown.length)} /> : null}
    </Box>
  )
}
