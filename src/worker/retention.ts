import { parseDuration, type Retention } from '../config.js'
import type { Backend } from '../storage/backend.js'
import { fireSchedule } from '../storage/schedule-repository.js'
import { purgeTasks } from '../storage/task-maintenance.js'
import type { TerminalStatus } from '../task.js'
import { Periodic } from './periodic.js'

/** How often a worker looks at its clock for the next round: no query until one is due. */
const TICK_MS = 250

/**
 * The sq_schedules row (a name no schedule may take) whose last slot is when the last round began:
 * taking a round advances it by compare-and-set, so one worker of however many does each round.
 */
const ROUND_ROW = 'sq:retention'

/**
 * The worker's retention duty: deletes ended tasks older than the setting says, through the batched
 * delete of `sq purge`, one round per interval across all workers. The interval is a tenth of the
 * shortest retention, from 1 s to 1 min: a task outlives its retention by at most that (plus a round).
 */
export function retentionServices(
  backend: Backend,
  retention: Retention,
  /** The database's clock, as this worker reckons it (ms). */
  now: () => number,
  log: (line: string) => void,
  onError: (error: Error) => void,
): Periodic[] {
  const rules = Object.entries(retention).map(([status, text]) => ({
    status: status as TerminalStatus,
    text,
    ms: parseDuration(text, 'retention'),
  }))
  if (rules.length === 0) return []
  const everyMs = Math.min(60_000, Math.max(1000, Math.min(...rules.map((r) => r.ms)) / 10))
  let nextLookMs = 0
  const round = async (stop: AbortSignal) => {
    if (now() < nextLookMs) return
    let due = false
    const taken = await fireSchedule(backend, ROUND_ROW, (sinceMs, nowMs) => {
      due = nowMs - sinceMs >= everyMs
      return { fire: [], last: due ? nowMs : null }
    })
    nextLookMs = taken.sinceMs + everyMs
    if (!due || taken.lost) return
    let deleted = 0
    for (const { status, ms } of rules)
      deleted += await purgeTasks(backend, { statuses: [status], olderThanMs: ms, dryRun: false, stop })
    if (deleted > 0) {
      const what = rules.map((r) => `${r.status} older than ${r.text}`).join(', ')
      log(`retention: deleted ${deleted} task${deleted === 1 ? '' : 's'} (${what})`)
    }
  }
  return [new Periodic(TICK_MS, round, onError)]
}
