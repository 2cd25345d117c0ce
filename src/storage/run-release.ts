import type { Progress } from '../types.js'
import { type Backend, parameters, type SqlRunner, statement } from './backend.js'
import { owned, type RunRef } from './fencing.js'
import { readChunks } from './task-repository.js'
import { CLEARED_CLAIM, CLEARED_RESULTS } from './task-row.js'
import { storableText } from './storable-text.js'

/**
 * Runs given back to the queue without spending their attempt (no failure of the task, so no verdict):
 * `attempts` is handed back; `claims`, the fencing token, keeps the next run's token new.
 */

/**
 * The UPDATE that puts a run's task back in the queue, its claim forgotten: `unstarted`, of this worker
 * (values: the run, the worker's id); `dead`, not started (the run); `started`, its results cleared
 * too, what it made kept in its log, to run now (the log, the run).
 */
const releaseSql = (runner: SqlRunner, kind: 'unstarted' | 'dead' | 'started') =>
  statement(runner, `release_${kind}`, () => {
    const { now } = runner.spelling
    const p = parameters(runner.spelling)
    const cleared = kind === 'started' ? { ...CLEARED_CLAIM, ...CLEARED_RESULTS } : CLEARED_CLAIM
    const set = [
      `"status" = 'queued'`,
      ...Object.keys(cleared)
        .filter((column) => kind !== 'started' || column !== 'log')
        .map((column) => `"${column}" = null`),
      `"modified" = ${now}`,
      `"attempts" = "attempts" - 1`,
      ...(kind === 'started' ? [`"run_at" = ${now}`, `"log" = ${p()}`] : []),
    ]
    const where = [owned(p)]
    if (kind === 'unstarted') where.push(`"worker_id" = ${p()}`)
    if (kind === 'dead') where.push('"started" is null')
    return `update "sq_tasks" set ${set.join(', ')} where ${where.join(' and ')} returning "id"`
  })

/** Gives back unstarted runs: their worker stops, or never learnt of its claim. */
export async function releaseUnstarted(backend: Backend, workerId: string, runs: RunRef[]): Promise<number> {
  let count = 0
  for (const run of runs) {
    const text = releaseSql(backend, 'unstarted')
    if ((await backend.query(text, [run.id, run.claim, workerId], 'release_unstarted')).length === 1) count++
  }
  return count
}

/**
 * Puts back a task a dead worker had claimed but not started: it did not run, so it is not failed. The
 * dead one may yet wake (SIGSTOP) holding its claim: the next claim makes a new one.
 */
export async function requeueUnstarted(backend: Backend, run: RunRef): Promise<boolean> {
  return (await backend.query(releaseSql(backend, 'dead'), [run.id, run.claim], 'release_dead')).length === 1
}

/**
 * Gives back a run that began, its worker stopping: queued again at once, its output so far and a note
 * kept in its log (the next run starts a new output). False when the run had lost its task.
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
    const values = [storableText(kept), run.id, run.claim]
    if ((await trx.query(releaseSql(trx, 'started'), values, 'release_started')).length !== 1) return false
    await trx.query(
      `delete from "sq_task_chunks" where "task_id" = ${trx.spelling.param(1)} and "claim" = ${trx.spelling.param(2)}`,
      [run.id, run.claim],
    )
    return true
  })
}
