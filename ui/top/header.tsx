import { Box, Text } from 'ink'
import type { Snapshot } from '../../src/monitor.js'
import { escapeControl, formatCount, truncate } from '../format.js'
import type { Theme } from './theme.js'

export interface HeaderProps {
  /** The database, password already hidden (Queue.displayUrl). */
  displayUrl: string
  snapshot: Snapshot | null
  width: number
  theme: Theme
}

/** Three lines: the database, the counts per status, throughput and the live workers. */
export function Header({ displayUrl, snapshot: s, width, theme }: HeaderProps) {
  const right = '? help'
  const title = truncate(`sq top  ${escapeControl(displayUrl, false)}`, Math.max(0, width - right.length - 1))
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
        {s ? (
          <>
            <Text color={theme.queued}>queued {formatCount(s.counts.queued)}</Text>
            {'  '}
            <Text color={theme.running}>running {formatCount(s.counts.progress)}</Text>
            {'  '}
            <Text color={theme.completed}>completed {formatCount(s.counts.completed)}</Text>
            {'  '}
            <Text color={theme.failed}>failed {formatCount(s.counts.failed)}</Text>
            {'  '}
            <Text color={theme.dim}>cancelled {formatCount(s.counts.cancelled)}</Text>
            {s.paused?.length ? (
              <Text color={theme.failed}>{`  paused: ${escapeControl(s.paused.join(','), false)}`}</Text>
            ) : null}
          </>
        ) : (
          ' '
        )}
      </Text>
      <Text wrap="truncate" color={theme.dim}>
        {truncate(`${throughput}  ·  ${escapeControl(workers, false)}`, width)}
      </Text>
    </Box>
  )
}
