import type { Backend } from '../storage/backend.js'
import { appendChunks } from '../storage/run-repository.js'
import { loseRunning } from './local-runs.js'
import type { Run } from './run.js'

/**
 * Writes what the running runs have buffered as rows of sq_task_chunks, read by `sq top`, `sq show
 * --follow` and the dashboard. A run's flush never rejects (its verdict awaits it): a batch not written
 * goes back in front of the buffer, for the next flush or the verdict.
 */
export async function flushOutput(backend: Backend, runs: readonly Run[]): Promise<void> {
  await Promise.all(runs.map((run) => flush(backend, run)))
}

async function flush(backend: Backend, run: Run): Promise<void> {
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
