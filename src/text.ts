import type { Progress } from './types.js'

/**
 * Plain-text readings of a task's fields, shared by `sq top`, the commands' human output and the
 * HTTP status page. Unescaped: each renderer escapes for its medium (terminal or HTML).
 */

/** The first line with something on it, trimmed: an error's message, a result's gist. */
export function firstNonBlankLine(text: string | null | undefined): string {
  return (
    (text ?? '')
      .split('\n')
      .find((line) => line.trim() !== '')
      ?.trim() ?? ''
  )
}

/** The last line with something on it, trimmed: what a running task printed most recently. */
export function lastNonBlankLine(text: string | null | undefined): string {
  return (
    (text ?? '')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .at(-1)
      ?.trim() ?? ''
  )
}

/** Structured progress as `3/10 copying`; an unknown count shows as `?`. */
export function progressText(progress: Progress): string {
  return `${progress.current ?? '?'}/${progress.total ?? '?'} ${progress.message ?? ''}`.trim()
}
