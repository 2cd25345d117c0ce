import type { Backend } from '../storage/backend.js'
import { appendChunks } from '../storage/run-repository.js'
import { loseRunning } from './local-runs.js'
import type { Run } from './run.js'

/**
 * Writes the output the running runs have buffered since the last flush, as rows of sq_task_chunks:
 * what `sq top`, `sq show --follow` and the dashboard read while a task runs. A worker's Periodic duty.
 */
export async function flushOutput(backend: Backend, runs: readonly Run[]): Promise<void> {
  await Promise.all(runs.map((r) => flush(backend, r)))
}

/**
 * Writes what the run has buffered. The promise never rejects: the verdict awaits it, and a database
 * that is away is the VerdictWriter's to wait out. A batch that could not be written goes back in
 * front of the buffer, so it is written by the next flush, or with the verdict.
 */
function flush(backend: Backend, run: Run): Promise<void> {
  if (run.flushing || run.output.empty || run.state !== 'running') return Promise.resolve()
  const batch = run.output.take()
  // Before the write: a write whose answer was lost may have committed its chunks.
  run.flushed = true
  run.flushing = appendChunks(backend, run.ref, batch)
    .then(
      (owned) => {
        if (!owned) loseRunning(run)
      },
      // The database is away: the claim loop and the VerdictWriter say so; a line per run would flood.
      () => run.output.putBack(batch),
    )
    .finally(() => {
      run.flushing = undefined
    })
  return run.flushing
}
