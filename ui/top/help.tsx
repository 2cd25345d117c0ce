import { Box, Text } from 'ink'
import type { Frame } from './theme.js'

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
