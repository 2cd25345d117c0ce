import { escapeControl } from '../src/display-text.js'
import { type Progress, statusLabel } from '../src/task.js'

/** Cuts to `width` characters, marking the cut with an ellipsis. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return ''
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`
}

/** 0.4s, 12s, 3m05s, 2h03m, 4d02h */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-'
  // Truncated, as whole seconds are below: 9.96 s is 9.9s, never a 10.0s that reads unlike 10s.
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`
  const h = Math.floor(m / 60)
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`
}

export function formatBytes(n: number | null): string {
  if (n === null) return '-'
  const units = ['B', 'KiB', 'MiB', 'GiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`
}

export function shortId(id: string): string {
  return id.slice(0, 8)
}

export { escapeControl, statusLabel }

/** 987, 12.3k, 100k, 1.2M: a count in at most five characters, for headers; an estimate `~` first. */
export function formatCount(n: number, estimated = false): string {
  if (estimated) return `~${formatCount(n)}`
  if (n < 10_000) return String(n)
  if (n < 1_000_000) return `${n < 100_000 ? (n / 1000).toFixed(1).replace(/\.0$/, '') : Math.floor(n / 1000)}k`
  return `${(n / 1_000_000).toFixed(1).replace(/\.0$/, '')}M`
}

/** `text` cut or padded to exactly `width` characters, for table cells. */
export function fitCell(text: string, width: number): string {
  return truncate(text, width).padEnd(Math.max(0, width))
}

/** Elapsed time against a limit: "12s/1h00m"; without a limit (0) just the elapsed time. */
export function formatElapsed(elapsedMs: number, limitSeconds: number): string {
  const elapsed = formatDuration(elapsedMs)
  return limitSeconds > 0 ? `${elapsed}/${formatDuration(limitSeconds * 1000)}` : elapsed
}

/** Structured progress, or nothing for none or a malformed one (its stored text): what a bar is drawn of. */
export const structured = (progress: Progress | string | null | undefined): Progress | undefined =>
  typeof progress === 'object' && progress !== null ? progress : undefined

/** A text progress bar `█████░░░░░ 50%` of `width` cells plus the percentage; '' when unknown. */
export function progressBar(progress: Progress | string | null | undefined, width = 10): string {
  const { current, total } = structured(progress) ?? {}
  if (typeof current !== 'number' || typeof total !== 'number' || !(total > 0)) return ''
  const ratio = Math.min(1, Math.max(0, current / total))
  const full = Math.round(ratio * width)
  return `${'█'.repeat(full)}${'░'.repeat(width - full)} ${Math.floor(ratio * 100)}%`
}

/** Display lines, escaped (tabs as spaces) so task output never drives the terminal; a trailing newline adds none. */
export function displayLines(text: string): string[] {
  if (text === '') return []
  const lines = text.replace(/\r\n/g, '\n').split('\n')
  if (lines.at(-1) === '') lines.pop()
  return lines.map((line) => escapeControl(line.replace(/\t/g, '    '), false))
}

/** A section title followed by a horizontal rule to exactly `width` characters. */
export function rule(title: string, width: number): string {
  return truncate(title, width).padEnd(width, '─')
}
