import type { Cron } from 'croner'
import type { CatchUp } from './definition.js'

/** At most this many missed slots are fired under `catchUp: 'all'` (the newest; older ones are skipped). */
export const MAX_CATCH_UP_SLOTS = 100

/**
 * Under `catchUp: 'none'`, a slot this old when first reached was missed (no worker up), not merely reached
 * late: workers look every quarter second.
 */
export const ON_TIME_MS = 10_000

/**
 * The slots of `cron` in (`sinceMs`, `nowMs`]: `fire` those to enqueue under `catchUp` (oldest first), `last`
 * the newest to record (null: none came due), `skipped` how many not fired (-1: too many to count). Pure.
 */
export function dueSlots(cron: Cron, sinceMs: number, nowMs: number, catchUp: CatchUp) {
  const limit = catchUp === 'all' ? MAX_CATCH_UP_SLOTS + 1 : 2
  // previousRuns counts back from its reference, which it excludes: +1 ms includes a slot at nowMs.
  const recent = cron
    .previousRuns(limit, new Date(nowMs + 1))
    .map((date) => date.getTime())
    .filter((ms) => ms > sinceMs && ms <= nowMs)
  if (recent.length === 0) return { fire: [], last: null, skipped: 0 }
  const last = recent[0]!
  const countedAll = recent.length < limit
  let fire: number[]
  if (catchUp === 'all') fire = recent.slice(0, MAX_CATCH_UP_SLOTS).reverse()
  else if (catchUp === 'latest' || nowMs - last <= ON_TIME_MS) fire = [last]
  else fire = []
  return { fire, last, skipped: countedAll ? recent.length - fire.length : -1 }
}

/** The first slot of `cron` after `afterMs`; null when it never fires again. */
export function nextSlot(cron: Cron, afterMs: number): number | null {
  return cron.nextRun(new Date(afterMs))?.getTime() ?? null
}
