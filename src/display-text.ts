import type { Progress } from './types.js'

// Plain-text readings of a task's fields for `sq top`, the commands and the status page; each renderer escapes.

/**
 * Control characters (but newline and tab) as visible escapes like `\x1b`, so task output cannot move the
 * cursor or retitle the terminal: the one rule for every line sq writes for people (JSON escapes on its own).
 */
export function escapeControl(text: string, keepNewlines = true): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    if (keepNewlines && (c === '\n' || c === '\t')) return c
    if (c === '\n') return '↵'
    if (c === '\t') return ' '
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`
  })
}

const nonBlankLines = (text: string | null | undefined) =>
  (text ?? '').split('\n').flatMap((line) => (line.trim() === '' ? [] : [line.trim()]))

/** The first line with something on it, trimmed: an error's message, a result's gist. */
export const firstNonBlankLine = (text: string | null | undefined): string => nonBlankLines(text)[0] ?? ''

/** The last line with something on it, trimmed: what a running task printed most recently. */
export const lastNonBlankLine = (text: string | null | undefined): string => nonBlankLines(text).at(-1) ?? ''

/** How a malformed json field (the stored text itself, see storage/task-row.ts) is shown to people. */
export const MALFORMED = '(malformed)'

/** A json field of the record (args) as one line of JSON; a malformed one as its stored text, marked. */
export function jsonFieldText(value: unknown): string {
  return typeof value === 'string' ? `${MALFORMED} ${value}` : JSON.stringify(value)
}

/** Structured progress as `3/10 copying`; an unknown count shows as `?`; malformed progress is marked. */
export function progressText(progress: Progress | string): string {
  if (typeof progress === 'string') return `${MALFORMED} ${progress}`
  return `${progress.current ?? '?'}/${progress.total ?? '?'} ${progress.message ?? ''}`.trim()
}
