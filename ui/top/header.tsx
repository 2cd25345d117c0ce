import { Box, Text } from 'ink'
import { Fragment } from 'react'
import type { Snapshot } from '../../src/monitor.js'
import { STATUSES } from '../../src/task.js'
import { escapeControl, formatCount, truncate } from '../format.js'
import { statusColor, type Theme } from './theme.js'

/** Three lines: the database (password already hidden), the counts per status, throughput and the live workers. */
export function Header(p: { displayUrl: string; snapshot: Snapshot | null; width: number; theme: Theme }) {
  const { snapshot: s, width, theme } = p
  const right = '? help'
  const title = truncate(`sq top  ${escapeControl(p.displayUrl, false)}`, Math.max(0, width - right.length - 1))
  const workers = s
    ? s.workers.length === 0
      ? 'no live workers'
      : `workers ${s.workers.length}: ${s.workers.map((w) => `${w.name} (${w.running}/${w.concurrency})`).join(', ')}`
    : ''
  const throughput = s
    ? `last ${s.throughput.windowSeconds}s: ${s.throughput.completed} completed, ${s.throughput.failed} failed`
    : 'loading…'
  return (
    <Box flexDirection="column" width={width}>
      <Box justifyContent="space-between" width={width}>
        <Text bold color={theme.title} wrap="truncate">
          {title}
        </Text>
        <Text color={theme.dim}>{right}</Text>
      </Box>
      <Text wrap="truncate">
        {s
          ? STATUSES.map((status, i) => (
              <Fragment key={status}>
                {i > 0 ? '  ' : ''}
                <Text color={statusColor(theme, status)}>
                  {`${status === 'progress' ? 'running' : status} ${formatCount(s.counts[status])}`}
                </Text>
              </Fragment>
            ))
          : ' '}
        {s?.paused?.length ? (
          <Text color={theme.failed}>{`  paused: ${escapeControl(s.paused.join(','), false)}`}</Text>
        ) : null}
      </Text>
      <Text wrap="truncate" color={theme.dim}>
        {truncate(`${throughput}  ·  ${escapeControl(workers, false)}`, width)}
      </Text>
    </Box>
  )
}
