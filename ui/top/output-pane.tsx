import { Box, Text } from 'ink'
import type { Pane } from '../../src/monitor.js'
import { escapeControl, formatElapsed, progressBar, shortId, statusLabel, structured, truncate } from '../format.js'
import { clampScroll, paneTextRows } from './layout.js'
import { type Frame, statusColor } from './theme.js'

/** The selected task's output (or log), following its end unless scrolled up; `note` replaces an empty pane. */
export function OutputPane(
  p: Frame & {
    pane: Pane | null
    lines: string[]
    scroll: number
    rows: number
    timeoutSeconds: number
    note?: string
  },
) {
  const { pane, lines, rows, width, theme } = p
  // Structured progress gets a bar line of its own when the pane has rows to spare.
  const bar = pane ? progressBar(pane.progress, Math.min(40, Math.max(10, width - 30))) : ''
  const textRows = paneTextRows(rows, bar !== '')
  const barLine = textRows < rows ? `${bar} ${escapeControl(structured(pane?.progress)?.message ?? '', false)}` : ''
  const offset = clampScroll(p.scroll, lines.length, textRows)
  const end = lines.length - offset
  const shown = lines.slice(Math.max(0, end - textRows), end)
  let title = '── Output '
  if (pane) {
    // The running table's formatter: the same elapsed time reads the same in both places.
    const time =
      pane.elapsedMs === null
        ? ''
        : ` ${formatElapsed(pane.elapsedMs, pane.status === 'progress' ? p.timeoutSeconds : 0)}`
    title =
      `── ${pane.stream === 'log' ? 'Log' : 'Output'} · ${shortId(pane.id)} ${escapeControl(pane.task, false)} · ` +
      `${statusLabel(pane.status).toLowerCase()}${time} · ${lines.length} lines` +
      `${offset > 0 ? ` · ↑${offset} (End follows)` : ''} `
  }
  const wanted = pane ? (pane.stream === 'log' ? ' l: output ' : ' l: log ') : ''
  // The hint gives way to the title when both do not fit (the help lists `l` anyway).
  const hint = title.length + wanted.length <= width ? wanted : ''
  const rule = Math.max(0, width - title.length - hint.length)
  return (
    <Box flexDirection="column" width={width}>
      <Text bold wrap="truncate">
        <Text color={pane ? statusColor(theme, pane.status) : theme.title}>{truncate(title, width)}</Text>
        <Text color={theme.dim}>
          {'─'.repeat(rule)}
          {hint}
        </Text>
      </Text>
      {barLine ? (
        <Text color={theme.running} wrap="truncate">
          {truncate(barLine, width)}
        </Text>
      ) : null}
      {pane === null || shown.length === 0 ? (
        <Text color={theme.dim}>
          {p.note ??
            (pane === null
              ? '  no task selected (↑/↓ to pick one)'
              : pane.status === 'queued'
                ? '  queued, not started yet'
                : `  no ${pane.stream} yet`)}
        </Text>
      ) : (
        shown.map((line, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a line of output has no identity but its place in the pane
          <Text key={i} wrap="truncate">
            {truncate(line, width)}
          </Text>
        ))
      )}
      {Math.max(1, shown.length) < textRows ? <Box height={textRows - Math.max(1, shown.length)} /> : null}
    </Box>
  )
}
