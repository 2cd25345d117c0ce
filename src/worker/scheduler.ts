import { randomUUID } from 'node:crypto'
import type { Cron } from 'croner'
import type { Settings } from '../config.js'
import { serializeArgs } from '../queue/args.js'
import { authorizeReference } from '../queue/reference.js'
import { redactSecrets } from '../redact.js'
import { cronOf, type ScheduleDef } from '../schedule/definition.js'
import { dueSlots, nextSlot } from '../schedule/slots.js'
import type { Backend } from '../storage/backend.js'
import { fireSchedule } from '../storage/schedule-repository.js'
import { Periodic } from './periodic.js'

/** How often the scheduler looks at its clock: a slot is enqueued at most this late (plus one transaction). */
const TICK_MS = 250
/** After an error (database away, task refused), how long a schedule waits before trying again. */
const RETRY_MS = 5000

/**
 * The worker's recurring-schedule duty: every worker runs one, and the database decides which of them
 * enqueues a slot (fireSchedule). Between slots it only reads its clock: no query until one is due.
 */
export class Scheduler {
  /** nextLookMs: when to look again, on the database's clock; 0: at once (not looked at yet); null: never again. */
  private readonly entries: Array<{ def: ScheduleDef; cron: Cron; nextLookMs: number | null }>

  constructor(
    private readonly backend: Backend,
    private readonly settings: Settings,
    /** The database's clock, as this worker reckons it (ms). */
    private readonly now: () => number,
    private readonly log: (line: string) => void,
  ) {
    this.entries = settings.schedules.map((def) => ({ def, cron: cronOf(def), nextLookMs: 0 }))
  }

  /** The worker's Periodic service for it; none when there are no schedules. */
  services(onError: (error: Error) => void): Periodic[] {
    return this.entries.length === 0 ? [] : [new Periodic(TICK_MS, () => this.tick(), onError)]
  }

  private async tick(): Promise<void> {
    for (const entry of this.entries) {
      if (entry.nextLookMs === null || this.now() < entry.nextLookMs) continue
      try {
        await this.fire(entry)
      } catch (error) {
        entry.nextLookMs = this.now() + RETRY_MS
        this.log(
          `schedule ${entry.def.name}: ${redactSecrets((error as Error).message.split('\n')[0]!)}; trying again in ${RETRY_MS / 1000}s`,
        )
      }
    }
  }

  private async fire(entry: Scheduler['entries'][number]): Promise<void> {
    const { def, cron } = entry
    // Checked at each firing, as `sq enqueue` checks: the module may come or go while the worker runs.
    authorizeReference(def.task, this.settings.root, this.settings.allowedTasks)
    const argsJson = serializeArgs(def.args, this.settings.maxArgsSize)
    let skipped = 0
    const result = await fireSchedule(this.backend, def.name, (sinceMs, nowMs) => {
      const due = dueSlots(cron, sinceMs, nowMs, def.catchUp)
      skipped = due.skipped
      const { queue, priority } = def
      const fire = due.fire.map((slot) => ({
        slot,
        task: { id: randomUUID(), task: def.task, argsJson, queue, priority },
      }))
      return { fire, last: due.last }
    })
    if (!result.lost) {
      for (const { slot, id } of result.fired)
        this.log(`schedule ${def.name}: enqueued ${id} ${def.task} for ${new Date(slot).toISOString()}`)
      if (skipped !== 0) {
        const count = skipped === -1 ? 'missed slots' : `${skipped} missed slot${skipped === 1 ? '' : 's'}`
        this.log(`schedule ${def.name}: skipped ${count} (catchUp: ${def.catchUp})`)
      }
    }
    entry.nextLookMs = nextSlot(cron, result.sinceMs)
  }
}
