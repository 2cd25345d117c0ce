import { type Backend, runStatement, type SqlRunner } from './backend.js'
import { owned, type RunRef, type RunTail, storableText } from './fencing.js'
import { readChunks } from './task-repository.js'
import { CLEARED_CLAIM, CLEARED_RESULTS } from './task-row.js'

/**
 * A run given back to the queue without spending its attempt (no failure, no verdict), its claim
 * forgotten: `unstarted`, of this worker (values: the run, the worker's id); `dead`, not started (the
 * run); `started`, its results cleared, what it made kept in its log, to run now (the log, the run).
 */
function releaseSql(kind: Release, now: string, p: () => string): string {
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
}

type Release = 'unstarted' | 'dead' | 'started'
const release = (runner: SqlRunner, kind: Release, values: unknown[]) =>
  runStatement(runner, `release_${kind}`, (p) => releaseSql(kind, runner.spelling.now, p), values)

/** Gives back unstarted runs: their worker stops, or never learnt of its claim. */
export async function releaseUnstarted(backend: Backend, workerId: string, runs: RunRef[]): Promise<number> {
  let count = 0
  for (const run of runs) {
    if ((await release(backend, 'unstarted', [run.id, run.claim, workerId])).length === 1) count++
  }
  return count
}

/**
 * Puts back a task a dead worker had claimed but not started: it did not run, so it is not failed. The
 * dead one may yet wake (SIGSTOP) holding its claim: the next claim makes a new one.
 */
export async function requeueUnstarted(backend: Backend, run: RunRef): Promise<boolean> {
  return (await release(backend, 'dead', [run.id, run.claim])).length === 1
}

/**
 * Why a run that began is given back: its worker stops, or its task process (shared with other runs) was
 * killed for a sibling that did not stop when asked. Neither is the task's failure.
 */
export type GiveBack = 'stop' | 'sibling'

const GIVE_BACK_NOTES: Record<GiveBack, string> = {
  stop: 'the worker stopped before the task finished',
  sibling: 'its task process was killed for another task in it that did not stop when asked',
}

/**
 * Gives back a run that began: queued again at once, its output so far and a note kept in its log (the
 * next run starts a new output). False when the run had lost its task.
 */
export async function releaseStarted(backend: Backend, run: RunRef, tail: RunTail, why: GiveBack): Promise<boolean> {
  return backend.writeTransaction(async (trx) => {
    const written = await readChunks(trx, run.id, run.claim)
    const output = written.output + (tail.output ?? '')
    const log = written.log + (tail.log ?? '')
    const endLine = (text: string) => (text === '' || text.endsWith('\n') ? text : `${text}\n`)
    const partial = output === '' ? '' : endLine(`[sq] output so far:\n${output}`)
    const kept = `${endLine(log)}${partial}[sq] ${GIVE_BACK_NOTES[why]}: queued again without spending an attempt\n`
    if ((await release(trx, 'started', [storableText(kept), run.id, run.claim])).length !== 1) return false
    await deleteChunks(backend, trx, [run])
    return true
  })
}

/** Deletes the chunks of these runs (by claim: a run that lost its task wrote none since). */
export const deleteChunks = (backend: Backend, trx: SqlRunner, runs: RunRef[]) =>
  runStatement(
    trx,
    'delete_chunks',
    (p) => `delete from sq_task_chunks where (task_id, claim) in
      (select cast(r.value ->> 0 as ${backend.idType}), cast(r.value ->> 1 as integer) from ${backend.spelling.jsonRows(p())})`,
    [JSON.stringify(runs.map((run) => [run.id, run.claim]))],
  )
