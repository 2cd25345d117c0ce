import type { Pane } from '../../src/monitor.js'
import { displayLines } from '../format.js'

/** Ink redraws the whole screen on every frame once output reaches the last row, so we stop one short. */
export const SPARE_ROWS = 1
const HEADER_ROWS = 3
const FOOTER_ROWS = 1
/** The running table's title and column header, the lower list's title. */
const TITLE_ROWS = 2 + 1

/**
 * The rows left by the fixed lines shared by the running rows, the lower list and the pane, in that order
 * of need: 80×24 shows a few of each, a taller terminal gives the pane the rest; closed, the blank is at the bottom.
 */
export function computeLayout(o: { rows: number; running: number; listed: number; paneOpen: boolean }) {
  const bodyRows = Math.max(1, o.rows - SPARE_ROWS - HEADER_ROWS - FOOTER_ROWS)
  const free = Math.max(3, bodyRows - TITLE_ROWS - (o.paneOpen ? 1 : 0))
  // Each list shows at least one row (its entries, or a "none" line).
  const want = (n: number) => Math.max(1, n)
  if (!o.paneOpen) {
    const listCap = Math.max(1, Math.floor(free / 3))
    const runningRows = Math.min(want(o.running), Math.max(1, free - Math.min(want(o.listed), listCap)))
    return { bodyRows, runningRows, listRows: Math.min(want(o.listed), Math.max(1, free - runningRows)), paneRows: 0 }
  }
  const runningCap = Math.max(3, Math.floor(free * 0.3))
  const listCap = Math.max(2, Math.floor(free * 0.2))
  const runningRows = Math.min(want(o.running), runningCap)
  const listRows = Math.min(want(o.listed), listCap)
  const paneRows = Math.max(1, free - runningRows - listRows)
  return { bodyRows, runningRows, listRows, paneRows }
}

/** Lines of text the pane shows, less a progress bar's line when it has room for one; scrolling is bounded by this. */
export function paneTextRows(paneRows: number, hasProgressBar: boolean): number {
  return hasProgressBar && paneRows >= 6 ? paneRows - 1 : paneRows
}

/** Clamps a scroll offset (lines up from the bottom) to what `total` lines in `rows` allow. */
export function clampScroll(scroll: number, total: number, rows: number): number {
  return Math.min(Math.max(0, scroll), Math.max(0, total - rows))
}

/** The window of `height` rows over `items` that keeps the selected one in view, centred-ish. */
export function windowOf<T extends { id: string }>(items: T[], selectedId: string | null, height: number) {
  const selected = items.findIndex((t) => t.id === selectedId)
  const start =
    items.length <= height || selected < 0
      ? 0
      : Math.min(Math.max(0, selected - Math.floor(height / 2)), items.length - height)
  return { start, shown: items.slice(start, start + height) }
}

/** The pane's lines: the stream's text, then a failed task's error under a rule. All escaped. */
export function paneLines(pane: Pane): string[] {
  const lines = displayLines(pane.text)
  if (pane.clipped) lines.unshift('… (earlier output not shown)')
  if (pane.error) lines.push('── error ──', ...displayLines(pane.error))
  return lines
}
