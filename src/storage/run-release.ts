import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely'
import type { Progress } from '../types.js'
import type { Backend } from './backend.js'
import type { Database } from './schema.js'
import { owned, type RunRef } from './fencing.js'
import { readChunks } from './task-repository.js'
import { CLEARED_CLAIM, CLEARED_RESULTS } from './task-row.js'
import { storableText } from './storable-text.js'

/**
 * Runs given back to the queue without spending their attempt: not the task's failure, so no verdict.
 * The run's claim is the fencing token as ever; its `attempts` is handed back (a claim counter apart,
 * `claims`, keeps the next run's token new).
 */

/** A claimed task back in the queue, its worker (and its start, if any) forgotten, its attempt unspent. */
const released = (backend: Backend) =>
  ({ status: 'queued', ...CLEARED_CLAIM, modified: backend.now(), attempts: sql<number>`attempts - 1` }) as const

/** One run back in the queue, if it is still `run` and `only` holds of its row. */
async function release(
  backend: Backend,
  run: RunRef,
  only: (eb: ExpressionBuilder<Database, 'sq_tasks'>) => Expression<SqlBool>,
): Promise<boolean> {
  const result = await backend.db
    .updateTable('sq_tasks')
    .set(released(backend))
    .where(owned(run))
    .where(only)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/**
 * Gives claimed but unstarted runs back to the queue: the worker that claimed them stops, or never
 * learnt of its claim.
 */
export async function releaseUnstarted(backend: Backend, workerId: string, runs: RunRef[]): Promise<number> {
  let count = 0
  for (const run of runs) if (await release(backend, run, (eb) => eb('worker_id', '=', workerId))) count++
  return count
}

/**
 * Puts back in the queue a task a dead worker had claimed but not started: it did not run, so it is not
 * failed. The dead one may yet wake (SIGSTOP) still holding its claim: the next claim makes a new one.
 */
export function requeueUnstarted(backend: Backend, run: RunRef): Promise<boolean> {
  return release(backend, run, (eb) => eb('started', 'is', null))
}

/**
 * Gives back a run that began, when its worker stops before it finished: queued again at once, its
 * output so far and a note kept in its log (the next run starts a new output). False when the run had
 * lost its task.
 */
export async function releaseStarted(
  backend: Backend,
  run: RunRef,
  tail: { output?: string; log?: string; progress?: Progress },
): Promise<boolean> {
  return backend.writeTransaction(async (trx) => {
    const written = await readChunks(trx, run.id, run.claim)
    const output = written.output + (tail.output ?? '')
    const log = written.log + (tail.log ?? '')
    const endLine = (text: string) => (text === '' || text.endsWith('\n') ? text : `${text}\n`)
    const partial = output === '' ? '' : endLine(`[sq] output so far:\n${output}`)
    const kept = `${endLine(log)}${partial}[sq] the worker stopped before the task finished: queued again without spending an attempt\n`
    const result = await trx.db
      .updateTable('sq_tasks')
      .set({ ...released(backend), ...CLEARED_RESULTS, run_at: backend.now(), log: storableText(kept) })
      .where(owned(run))
      .executeTakeFirst()
    if (Number(result.numUpdatedRows) !== 1) return false
    await trx.db.deleteFrom('sq_task_chunks').where('task_id', '=', run.id).where('claim', '=', run.claim).execute()
    return true
  })
}
