import { randomUUID } from 'node:crypto'
import { parseDuration, type Settings } from '../config.js'
import { serializeArgs } from '../queue/args.js'
import { authorizeReference } from '../queue/reference.js'
import { redactSecrets } from '../redact.js'
import { cronOf } from '../schedule/definition.js'
import { dueSlots, nextSlot } from '../schedule/slots.js'
import type { Backend } from '../storage/backend.js'
import { appendChunks, lostRuns } from '../storage/run-repository.js'
import { fireSchedule } from '../storage/schedule-repository.js'
import { purgeTasks } from '../storage/task-maintenance.js'
import type { TerminalStatus } from '../task.js'
import { type LocalRuns, loseRunning } from './local-runs.js'
import type { WorkerLog } from './log.js'
import { droppedLine } from './outcome.js'
import type { WorkerPresence } from './presence.js'
import type { Run } from './run.js'

/** How far behind the database a running task's output may be. */
const FLUSH_MS = 200
/** How often a worker checks that its runs still own their tasks (cancel, rescue by others). */
const OWNERSHIP_MS = 250
/** The closest two ownership checks that a cancel notification asks for may be. */
const CANCEL_CHECK_GAP_MS = 50
/** How often a background duty's error is logged again while it repeats (an outage). */
const REPEATED_ERROR_MS = 5000
/** How often schedules and retention look at the clock (no query until one is due): a slot is this late at most. */
const TICK_MS = 250
/** After an error (database away, task refused), how long a schedule waits before trying again. */
const RETRY_MS = 5000
/** The sq_schedules row (no schedule may take its name) whose compare-and-set gives a retention round to one worker. */
const RETENTION_ROW = 'sq:retention'

export interface DutiesContext {
  backend: Backend
  settings: Settings
  presence: WorkerPresence
  runs: LocalRuns
  log: WorkerLog
  heartbeat(): Promise<void>
  /** A task was queued: the notification's payload (`queue count` on PostgreSQL, empty for a hint). */
  queued(payload: string): void
}

/**
 * Starts a worker's background duties, each a Periodic service — heartbeat and rescue, output flush,
 * ownership checks, the config's schedules and retention — and the notifications that hurry them: a
 * task queued, a task cancelled. Returns what stops them all.
 */
export async function startDuties(c: DutiesContext): Promise<() => Promise<void>> {
  const onError = sayOnce(c.log, REPEATED_ERROR_MS)
  const now = () => c.presence.databaseTime(Date.now())
  const ownership = new Periodic(OWNERSHIP_MS, () => checkOwnership(c), onError)
  const services = [
    new Periodic(c.presence.intervalMs, c.heartbeat, onError),
    new Periodic(FLUSH_MS, () => Promise.all(c.runs.runs().map((run) => flushOutput(c.backend, run))), onError),
    ownership,
    ...[scheduleTick(c, now), retentionRound(c, now)].flatMap((fn) => (fn ? [new Periodic(TICK_MS, fn, onError)] : [])),
  ].map((s) => s.start())
  const unlisten: Array<() => Promise<void>> = []
  const stop = async () => {
    await Promise.all(services.map((s) => s.stop()))
    await Promise.all(unlisten.map((stop) => stop()))
  }
  try {
    unlisten.push(
      await c.backend.listen('sq_queued', c.queued, {
        shared: { as: c.presence.id, isFor: (payload, id) => c.presence.wakes(payload, id) !== undefined },
      }),
    )
    unlisten.push(
      await c.backend.listen('sq_cancel', () => ownership.soon(CANCEL_CHECK_GAP_MS), { shared: { as: c.presence.id } }),
    )
  } catch (error) {
    // A LISTEN connection that cannot open (a wrong listenUrl): the worker exits, its services too.
    await stop()
    throw error
  }
  return stop
}

/** Stops runs, running or waiting, whose task was cancelled, requeued or rescued meanwhile. */
async function checkOwnership({ backend, runs, log }: DutiesContext): Promise<void> {
  const live = runs.live().map((r) => r.ref)
  if (live.length === 0) return
  const lost = await lostRuns(backend, live)
  if (lost.length === 0) return
  for (const r of runs.lose(new Set(lost.map((ref) => ref.id)))) log(droppedLine(r.id))
}

/**
 * Writes what a running run has buffered as rows of sq_task_chunks (for `sq top`, `sq show --follow`, the
 * dashboard). Never rejects, as its verdict awaits it: a batch not written goes back in front of the buffer.
 */
async function flushOutput(backend: Backend, run: Run): Promise<void> {
  if (run.flushing || run.output.empty || run.state !== 'running') return
  const batch = run.output.take()
  run.flushed = true // before the write: one whose answer was lost may have committed its chunks
  run.flushing = appendChunks(backend, run.ref, batch).then(
    (owned) => {
      if (!owned) loseRunning(run)
    },
    // The database is away: the claim loop and the VerdictWriter say so; a line per run would flood.
    () => run.output.putBack(batch),
  )
  await run.flushing
  run.flushing = undefined
}

/** The recurring schedules: every worker runs them, and the database decides which one enqueues a slot. */
function scheduleTick({ backend, settings, log }: DutiesContext, now: () => number) {
  if (settings.schedules.length === 0) return undefined
  /** nextLookMs: when to look again, on the database's clock; 0: at once; null: never again. */
  const entries = settings.schedules.map((def) => ({ def, cron: cronOf(def), nextLookMs: 0 as number | null }))
  const fireDue = async ({ def, cron }: (typeof entries)[number]): Promise<number | null> => {
    // Checked at each firing, as `sq enqueue` checks: the module may come or go while the worker runs.
    authorizeReference(def.task, settings.root, settings.allowedTasks)
    const argsJson = serializeArgs(def.args, settings.maxArgsSize)
    let skipped = 0
    const result = await fireSchedule(backend, def.name, (sinceMs, nowMs) => {
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
        log(`schedule ${def.name}: enqueued ${id} ${def.task} for ${new Date(slot).toISOString()}`)
      if (skipped !== 0) {
        const count = skipped === -1 ? 'missed slots' : `${skipped} missed slot${skipped === 1 ? '' : 's'}`
        log(`schedule ${def.name}: skipped ${count} (catchUp: ${def.catchUp})`)
      }
    }
    return nextSlot(cron, result.sinceMs)
  }
  return async () => {
    for (const entry of entries) {
      if (entry.nextLookMs === null || now() < entry.nextLookMs) continue
      try {
        entry.nextLookMs = await fireDue(entry)
      } catch (error) {
        entry.nextLookMs = now() + RETRY_MS
        log(
          `schedule ${entry.def.name}: ${redactSecrets((error as Error).message.split('\n')[0]!)}; trying again in ${RETRY_MS / 1000}s`,
        )
      }
    }
  }
}

/**
 * Deletes ended tasks older than their retention, by `sq purge`'s batched delete, one round per interval
 * across all workers: a tenth of the shortest retention, from 1 s to 1 min (a task outlives it by that).
 */
function retentionRound({ backend, settings, log }: DutiesContext, now: () => number) {
  const rules = Object.entries(settings.retention).map(([status, text]) => ({
    status: status as TerminalStatus,
    text,
    ms: parseDuration(text, 'retention'),
  }))
  if (rules.length === 0) return undefined
  const everyMs = Math.min(60_000, Math.max(1000, Math.min(...rules.map((r) => r.ms)) / 10))
  let nextLookMs = 0
  return async (stop: AbortSignal) => {
    if (now() < nextLookMs) return
    let due = false
    const taken = await fireSchedule(backend, RETENTION_ROW, (sinceMs, nowMs) => {
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
}

/**
 * A background duty of the worker: runs `fn` every `ms`, never two at once (`trigger()` runs it once the
 * current one ends); errors go to `onError` and the duty goes on. `stop()` waits for a run in flight.
 */
class Periodic {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<unknown> | undefined
  private again = false
  private lastRun = 0
  private soonTimer: NodeJS.Timeout | undefined
  /** Aborted by stop(): a long run (a retention round) ends early rather than hold the stop up. */
  private stopping = new AbortController()

  constructor(
    private readonly ms: number,
    private readonly fn: (stopping: AbortSignal) => Promise<unknown>,
    private readonly onError: (error: Error) => void,
  ) {}

  start(): this {
    this.stopping = new AbortController()
    this.timer = setInterval(() => this.trigger(), this.ms)
    return this
  }

  /** Runs it within `minGapMs` of the last run: for hints that may come thousands of times a second (SQLite). */
  soon(minGapMs: number): void {
    if (this.soonTimer || !this.timer) return
    const wait = this.lastRun + minGapMs - Date.now()
    if (wait <= 0) {
      this.trigger()
      return
    }
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined
      if (this.timer) this.trigger()
    }, wait)
  }

  trigger(): void {
    if (this.running) {
      this.again = true
      return
    }
    this.lastRun = Date.now()
    this.running = this.fn(this.stopping.signal)
      .catch((error: Error) => this.onError(error))
      .finally(() => {
        this.running = undefined
        if (this.again && this.timer) {
          this.again = false
          this.trigger()
        }
      })
  }

  async stop(): Promise<void> {
    this.stopping.abort()
    clearInterval(this.timer)
    clearTimeout(this.soonTimer)
    this.timer = undefined
    await this.running
  }
}

/** The duties' error handler: while the database is away, each error is said once per `everyMs`, not per run. */
function sayOnce(log: (line: string) => void, everyMs: number): (error: Error) => void {
  let said = { text: '', at: 0 }
  return (error) => {
    const text = `worker error: ${redactSecrets(error.message)}`
    const now = Date.now()
    if (text === said.text && now - said.at < everyMs) return
    said = { text, at: now }
    log(text)
  }
}
