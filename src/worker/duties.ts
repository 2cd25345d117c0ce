import type { Settings } from '../config.js'
import type { Backend } from '../storage/backend.js'
import { lostRuns } from '../storage/run-repository.js'
import type { LocalRuns } from './local-runs.js'
import type { WorkerPresence } from './presence.js'
import type { WorkerLog } from './log.js'
import { droppedLine } from './outcome.js'
import { Periodic, sayOnce } from './periodic.js'
import { flushOutput } from './output-flush.js'
import { retentionServices } from './retention.js'
import { Scheduler } from './scheduler.js'

/** How far behind the database a running task's output may be. */
const FLUSH_MS = 200
/** How often a worker checks that its runs still own their tasks (cancel, rescue by others). */
const OWNERSHIP_MS = 250
/** The closest two ownership checks that a cancel notification asks for may be. */
const CANCEL_CHECK_GAP_MS = 50
/** How often a background duty's error is logged again while it repeats (an outage). */
const REPEATED_ERROR_MS = 5000

export interface DutiesContext {
  backend: Backend
  settings: Settings
  presence: WorkerPresence
  runs: LocalRuns
  log: WorkerLog
  heartbeat(): Promise<void>
  /** A task was queued: `named` when the notification named one of the worker's queues (PostgreSQL). */
  queued(queue: string): void
}

/**
 * Starts a worker's background duties, each a Periodic service — heartbeat and rescue, output flush,
 * ownership checks, the config's schedules and retention — and the notifications that hurry them: a
 * task queued, a task cancelled. Returns what stops them all.
 */
export async function startDuties(c: DutiesContext): Promise<() => Promise<void>> {
  const onError = sayOnce(c.log, REPEATED_ERROR_MS)
  const ownership = new Periodic(OWNERSHIP_MS, () => checkOwnership(c), onError)
  const services = [
    new Periodic(c.presence.intervalMs, c.heartbeat, onError),
    new Periodic(FLUSH_MS, () => flushOutput(c.backend, c.runs.runs()), onError),
    ownership,
    ...new Scheduler(c.backend, c.settings, () => c.presence.databaseTime(Date.now()), c.log).services(onError),
    ...retentionServices(c.backend, c.settings.retention, () => c.presence.databaseTime(Date.now()), c.log, onError),
  ].map((s) => s.start())
  const unlisten = [
    await c.backend.listen('sq_queued', c.queued),
    await c.backend.listen('sq_cancel', () => ownership.soon(CANCEL_CHECK_GAP_MS)),
  ]
  return async () => {
    await Promise.all(services.map((s) => s.stop()))
    await Promise.all(unlisten.map((stop) => stop()))
  }
}

/** Stops runs, running or waiting, whose task was cancelled, requeued or rescued meanwhile. */
async function checkOwnership({ backend, runs, log }: DutiesContext): Promise<void> {
  const live = runs.live()
  if (live.length === 0) return
  const lost = await lostRuns(
    backend,
    live.map((r) => r.ref),
  )
  if (lost.length === 0) return
  for (const r of runs.lose(new Set(lost.map((ref) => ref.id)))) log(droppedLine(r.id))
}
