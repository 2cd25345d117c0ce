import { Text } from 'ink'
import { escapeControl, shortId, truncate } from '../format.js'
import type { Theme } from './theme.js'

export const HINTS = '↑↓ select  ⏎ pane  l log  Tab list  c cancel  r requeue  / filter  ?help  q quit'

export interface FooterProps {
  width: number
  theme: Theme
  /** A one-line report of the last action, or a database error. */
  message: { text: string; error?: boolean } | null
}

/** The bottom line: what the keys do, or the result of the last action. */
export function Footer({ width, theme, message }: FooterProps) {
  if (message) {
    return (
      <Text color={message.error ? theme.failed : theme.accent} wrap="truncate">
        {truncate(escapeControl(message.text, false), width)}
      </Text>
    )
  }
  return (
    <Text color={theme.dim} wrap="truncate">
      {truncate(HINTS, width)}
    </Text>
  )
}

export interface ConfirmDialogProps {
  width: number
  theme: Theme
  id: string
  task: string
}

/** Asks before cancelling: y cancels, any other key does not. */
export function ConfirmDialog({ width, theme, id, task }: ConfirmDialogProps) {
  return (
    <Text inverse bold color={theme.failed} wrap="truncate">
      {truncate(`Cancel ${shortId(id)} ${escapeControl(task, false)}? y: yes, any other key: no`, width)}
    </Text>
  )
}

export interface FilterPromptProps {
  width: number
  theme: Theme
  draft: string
}

/** The filter being typed: Enter applies it, Esc clears it. */
export function FilterPrompt({ width, theme, draft }: FilterPromptProps) {
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
