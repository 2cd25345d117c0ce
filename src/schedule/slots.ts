import type { Cron } from 'croner'
import type { CatchUp } from './definition.js'

/** At most this many missed slots are fired under `catchUp: 'all'` (the newest; older ones are skipped). */
export const MAX_CATCH_UP_SLOTS = 100

/**
 * Under `catchUp: 'none'`, a slot this old when a worker first gets to it was missed (no worker was up
 * at its time), not merely reached late: workers look every quarter second, so a slot reached on time
 * is at most a few hundred ms old, even with a slow database.
 */
export const ON_TIME_MS = 10_000

/**
 * What to do about a schedule now. The slots of `cron` after `sinceMs` (the last slot recorded, or when the
 * schedule was first seen) and up to `nowMs` (the database's clock) came due; `fire` are those to enqueue
 * under `catchUp` (oldest first), `last` the newest (fired or skipped; null when none came due), to record,
 * and `skipped` how many are not fired (-1: more than could be counted). Pure.
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
