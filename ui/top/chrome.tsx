import { Box, Text } from 'ink'
import { Fragment } from 'react'
import type { Snapshot } from '../../src/monitor.js'
import { STATUSES } from '../../src/task.js'
import { escapeControl, formatCount, shortId, truncate } from '../format.js'
import { type Frame, statusColor, type Theme } from './theme.js'

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
                  {`${status === 'progress' ? 'running' : status} ${formatCount(s.counts[status], s.estimated?.includes(status))}`}
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

const HINTS = '↑↓ select  ⏎ pane  l log  Tab list  c cancel  r requeue  / filter  ?help  q quit'

/** The bottom line: what the keys do, or a one-line report of the last action, or a database error. */
export function Footer({ width, theme, message }: Frame & { message: { text: string; error?: boolean } | null }) {
  return (
    <Text color={message ? (message.error ? theme.failed : theme.accent) : theme.dim} wrap="truncate">
      {truncate(message ? escapeControl(message.text, false) : HINTS, width)}
    </Text>
  )
}

/** Asks before cancelling: y cancels, any other key does not. */
export function ConfirmDialog({ width, theme, id, task }: Frame & { id: string; task: string }) {
  return (
    <Text inverse bold color={theme.failed} wrap="truncate">
      {truncate(`Cancel ${shortId(id)} ${escapeControl(task, false)}? y: yes, any other key: no`, width)}
    </Text>
  )
}

/** The filter being typed: Enter applies it, Esc clears it. */
export function FilterPrompt({ width, theme, draft }: Frame & { draft: string }) {
  const hint = '   ⏎ apply  Esc clear'
  return (
    <Text wrap="truncate">
      <Text bold color={theme.accent}>
        /
      </Text>
      {truncate(escapeControl(draft, false), Math.max(0, width - hint.length - 2))}
      <Text inverse> </Text>
      <Text color={theme.dim}>{hint}</Text>
    </Text>
  )
}

const KEYS: Array<[string, string]> = [
  ['↑ ↓  k j', 'select a running task or one of the lower list'],
  ['Tab  t', 'lower list: recent failures, queued tasks, recently completed'],
  ['Enter', 'show or hide the output pane'],
  ['l', "switch the pane between the task's output and its log"],
  ['PgUp PgDn', 'scroll the pane (Home/g: top, End/G: follow the output)'],
  ['c', 'cancel the selected task (asks first)'],
  ['r', 'requeue the selected task (failed, cancelled or completed)'],
  ['/', 'filter by task: hel* is anchored (a glob), hel a substring; Esc clears'],
  ['?', 'this help; any key closes it'],
  ['q  Ctrl-C', 'quit'],
]

/** The keys, in place of the tables while it is open. */
export function Help({ rows, width, theme, intervalMs }: Frame & { rows: number; intervalMs: number }) {
  const lines = KEYS.slice(0, Math.max(0, rows - 2))
  return (
    <Box flexDirection="column" width={width} height={rows}>
      <Text bold color={theme.title}>
        Keys
      </Text>
      {lines.map(([key, what]) => (
        <Text key={key} wrap="truncate">
          {'  '}
          <Text bold color={theme.accent}>
            {key.padEnd(11)}
          </Text>
          {what}
        </Text>
      ))}
      <Text color={theme.dim} wrap="truncate">
        Refreshes every {intervalMs} ms. Task output is shown with control characters escaped.
      </Text>
    </Box>
  )
}
