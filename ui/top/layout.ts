import type { Pane } from '../../src/monitor.js'
import { displayLines } from '../format.js'

/**
 * How the screen's rows are shared out. Fixed: three header lines, the running table's title and
 * column header, the failures' title, the footer, and the pane's title when it is open. What is left
 * goes to the running rows, the failure rows and the pane, in that order of need, so 80×24 shows a
 * few of each and a taller terminal gives the pane (or, with the pane closed, the tables) the rest.
 */
export interface Layout {
  runningRows: number
  failureRows: number
  /** Lines of pane text; 0 when the pane is closed. */
  paneRows: number
}

/** Ink redraws the whole screen on every frame once output reaches the last row, so we stop one short. */
export const SPARE_ROWS = 1
const FIXED_ROWS = 3 + 2 + 1 + 1

export function computeLayout(o: { rows: number; running: number; failures: number; paneOpen: boolean }): Layout {
  const free = Math.max(3, o.rows - SPARE_ROWS - FIXED_ROWS - (o.paneOpen ? 1 : 0))
  // Each list shows at least one row (its entries, or a "none" line).
  const want = (n: number) => Math.max(1, n)
  if (!o.paneOpen) {
    const failureRows = Math.min(want(o.failures), Math.max(1, Math.floor(free / 3)))
    const runningRows = Math.max(1, free - failureRows)
    return { runningRows, failureRows, paneRows: 0 }
  }
  const runningCap = Math.max(3, Math.floor(free * 0.3))
  const failureCap = Math.max(2, Math.floor(free * 0.2))
  const runningRows = Math.min(want(o.running), runningCap)
  const failureRows = Math.min(want(o.failures), failureCap)
  const paneRows = Math.max(1, free - runningRows - failureRows)
  return { runningRows, failureRows, paneRows }
}

/** The first index of a window of `height` rows over `count` that keeps `selected` in view, centred-ish. */
export function windowStart(count: number, selected: number, height: number): number {
  if (count <= height || selected < 0) return 0
  return Math.min(Math.max(0, selected - Math.floor(height / 2)), count - height)
}

/** The pane's lines: the stream's text, then a failed task's error under a rule. All escaped. */
export function paneLines(pane: Pane): string[] {
  const lines = displayLines(pane.text)
  if (pane.clipped) lines.unshift('… (earlier output not shown)')
  if (pane.error) lines.push('── error ──', ...displayLines(pane.error))
  return lines
}
