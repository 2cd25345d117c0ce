import { Text } from 'ink'
import { escapeControl, shortId, truncate } from '../format.js'
import type { Frame } from './theme.js'

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
