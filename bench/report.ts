/** Statistics and the printed tables: numbers in, text out, no I/O. */
import Table from 'cli-table3'
import { BARE } from '../ui/render-text.js'

export const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  )

/** The p-th percentile of sorted values (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

/** Rounded to a useful precision: 12,345 · 123 · 12.3 · 1.23. */
export function num(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—'
  const digits = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2
  return x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 })
}

export function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a / b)) return '—'
  return `${num(a / b)}×`
}

export const mb = (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(0)} MB`)

/** A cell that spans the value columns of a row. */
export const span = (content: string, colSpan: number) => ({ content, colSpan })

type Cell = string | { content: string; colSpan: number }

/** A borderless table: a heading row, then rows; numeric columns right-aligned. */
export function table(head: string[], rows: Cell[][], align: ('left' | 'right')[] = ['left']): string {
  const t = new Table({
    head,
    // Indented by two spaces under the report's headings.
    chars: { ...BARE, left: '  ' },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    colAligns: head.map((_, i) => align[i] ?? 'right'),
  })
  t.push(...rows)
  return t
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
}

/** Appends a goal's verdict: "met" / "not met" against its target. */
export const verdict = (met: boolean | undefined) => (met === undefined ? '—' : met ? 'met' : 'NOT met')
