import { type Backend, runStatement, type Session } from './backend.js'
import { deleteChunks, type GiveBack, releaseStarted } from './run-release.js'
import { type RunRef, type RunTail, storableText } from './fencing.js'
import { TASK_COLUMNS, USAGE, type RunUsage } from './task-row.js'

/** What a run made and measured, whatever its verdict. */
interface RunWritten extends RunUsage {
  /** Output, log and progress not yet written as chunks: they end the run's streams. */
  tail?: RunTail
  /** False when the run wrote no chunk (the worker knows): then its verdict reads none. */
  chunksWritten?: boolean
  /** When the run started and ended, in ms by the database's clock: not when the batched verdict came. */
  ran?: { startedAt: number; endedAt: number }
}

/**
 * How a run ended: a verdict (a retry is `queued` with its backoff), or given back: the worker stopped
 * before the run finished, or a sibling's kill took its process, which is no failure of the task, so its
 * attempt is handed back (run-release.ts).
 */
export type RunOutcome = RunWritten &
  (
    | { status: 'completed'; error?: null }
    | { status: 'failed' | 'cancelled'; error: string }
    | { status: 'queued'; error: string; retryAfterSeconds: number }
    | { status: 'queued'; givenBack: GiveBack }
  )

export type Verdict = { run: RunRef; outcome: RunOutcome }

export const MAX_VERDICT_BATCH = 100

/** Ends one run; false (and nothing changed) when it had lost its task. */
export async function endRun(backend: Backend, run: RunRef, outcome: RunOutcome): Promise<boolean> {
  return (await endRuns(backend, [{ run, outcome }])).has(run.id)
}

/**
 * Ends many runs at once (group commit): a statement per hundred verdicts, each row fenced by its claim, folds each
 * run's chunks into its output and log; one more deletes them. Returns the ids recorded.
 */
export async function endRuns(backend: Backend, verdicts: Verdict[]): Promise<Set<string>> {
  const recorded = new Set<string>()
  const ended: Ended[] = []
  const fields = verdictFields(backend)
  for (const v of verdicts) {
    if ('givenBack' in v.outcome) {
      if (await releaseStarted(backend, v.run, v.outcome.tail ?? {}, v.outcome.givenBack)) recorded.add(v.run.id)
    } else ended.push({ run: v.run, outcome: v.outcome })
  }
  for (let at = 0; at < ended.length; at += MAX_VERDICT_BATCH) {
    const batch = ended.slice(at, at + MAX_VERDICT_BATCH)
    const withChunks = batch.filter((v) => v.outcome.chunksWritten !== false).map(({ run }) => run)
    const write = async (trx: Session) => {
      const values = [JSON.stringify(batch.map((v) => fields.map(([, , value]) => value(v))))]
      const rows = await runStatement<{ id: string }>(trx, 'verdicts', () => verdictSql(backend, fields), values)
      if (withChunks.length > 0) await deleteChunks(backend, trx, withChunks)
      return rows
    }
    // Without chunks to delete it is one statement: no transaction around it.
    const rows = withChunks.length > 0 ? await backend.writeTransaction(write) : await backend.exclusive(write)
    for (const row of rows) recorded.add(row.id)
  }
  return recorded
}

type Ended = { run: RunRef; outcome: Exclude<RunOutcome, { givenBack: GiveBack }> }
type Field = [name: string, type: string, value: (v: Ended) => unknown]

/** A verdict's fields, as its JSON row holds them and its statement reads them: name, SQL type, value. */
function verdictFields(backend: Backend): Field[] {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString())
  return [
    ['task_id', backend.idType, ({ run }) => run.id],
    ['claim', 'integer', ({ run }) => run.claim],
    ['chunks', 'integer', ({ outcome }) => (outcome.chunksWritten === false ? 0 : 1)],
    ['status', 'text', ({ outcome }) => outcome.status],
    ['output', 'text', ({ outcome }) => storableText(outcome.tail?.output ?? null)],
    ['log', 'text', ({ outcome }) => storableText(outcome.tail?.log ?? null)],
    ['error', 'text', ({ outcome }) => storableText(outcome.error ?? null)],
    ...USAGE.map(({ column, field }): Field => [column, TASK_COLUMNS[column].kind, (v) => v.outcome[field] ?? null]),
    ['retry_after', 'integer', ({ outcome }) => ('retryAfterSeconds' in outcome ? outcome.retryAfterSeconds : null)],
    ['progress', 'text', ({ outcome }) => (outcome.tail?.progress ? JSON.stringify(outcome.tail.progress) : null)],
    ['started_at', backend.timestampType, ({ outcome }) => iso(outcome.ran?.startedAt)],
    ['ended_at', backend.timestampType, ({ outcome }) => iso(outcome.ran?.endedAt)],
  ]
}

/** A run's stream folded: its chunks in order (string_agg: PostgreSQL, SQLite ≥ 3.44), then the verdict's. */
const folded = (stream: 'output' | 'log') => `nullif(coalesce(case when v.chunks = 1 then
      (select string_agg(c.data, '' order by c.seq) from sq_task_chunks c
       where c.task_id = v.task_id and c.claim = v.claim and c.stream = '${stream}') end, '')
      || coalesce(v.${stream}, ''), '')`

/** `WITH v(…) AS (SELECT … FROM <the JSON rows>) UPDATE sq_tasks … FROM v` (SQLite ≥ 3.33), kept prepared. */
function verdictSql(backend: Backend, columns: Field[]): string {
  const { now, nowPlusSeconds, jsonRows, param } = backend.spelling
  const fields = columns.map(([, type], i) => `cast(r.value ->> ${i} as ${type})`)
  const ended = `v.status <> 'queued'`
  return `
    with v(${columns.map(([name]) => name).join(', ')}) as (select ${fields.join(', ')} from ${jsonRows(param(1))})
    update sq_tasks set
      status = v.status, output = ${folded('output')}, log = ${folded('log')}, error = v.error,
      ${USAGE.map(({ column }) => `${column} = v.${column}`).join(', ')}, modified = ${now},
      progress = coalesce(v.progress, sq_tasks.progress),
      started = coalesce(v.started_at, sq_tasks.started),
      finished = case when ${ended} then coalesce(v.ended_at, ${now}) else null end,
      run_at = case when ${ended} then sq_tasks.run_at else ${nowPlusSeconds('v.retry_after')} end,
      worker_id = case when ${ended} then sq_tasks.worker_id else null end
    from v
    -- The status as an expression, so that no plan walks the running tasks by status (and reads the
    -- rows again for each, as SQLite did): each row is found by its id.
    where sq_tasks.id = v.task_id and sq_tasks.claims = v.claim and sq_tasks.status || '' = 'progress'
    returning sq_tasks.id`
}
