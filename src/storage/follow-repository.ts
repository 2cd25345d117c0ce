import type { TaskChunksTable } from './schema.js'
import type { TaskStore } from './task-repository.js'
import type { TaskRow } from './task-row.js'

/**
 * The reads of following a run (follow.ts), each one index range written out: `sq show --follow` never loads Kysely.
 */

export type Stream = TaskChunksTable['stream']

/** A task without output and log: `claims` names its run, `error_head` is the start (8 KiB) of its error. */
export type TaskHead = NonNullable<Awaited<ReturnType<typeof taskHead>>>

export async function taskHead(backend: TaskStore, id: string) {
  type Head = Pick<TaskRow, 'task' | 'status' | 'worker' | 'attempts' | 'claims' | 'started' | 'finished' | 'progress'>
  const [row] = await backend.query<Head & { error_head: string | null }>(
    `select "task", "status", "worker", "attempts", "claims", "started", "finished", "progress", substr("error", 1, 8192) as "error_head" from "sq_tasks" where "id" = ${backend.spelling.param(1)}`,
    [id],
  )
  return (
    row && {
      ...row,
      attempts: Number(row.attempts),
      claims: Number(row.claims),
      started: backend.toIso(row.started),
      finished: backend.toIso(row.finished),
    }
  )
}

/**
 * One stream of a run's chunks after `afterSeq`: the first `maxChunks`, or with `fromTail` the last. `lastSeq` is the
 * next `afterSeq`; `more`: chunks were left out (older ones with `fromTail`, else later ones).
 */
export async function chunksAfter(
  backend: TaskStore,
  o: { id: string; claim: number; stream: Stream; afterSeq: number; maxChunks: number; fromTail: boolean },
): Promise<{ text: string; lastSeq: number; more: boolean }> {
  const p = backend.spelling.param
  const rows = await backend.query<{ seq: number | string; data: string }>(
    `select "seq", "data" from "sq_task_chunks" where "task_id" = ${p(1)} and "stream" = ${p(2)} and "claim" = ${p(3)} and "seq" > ${p(4)} order by "seq"${o.fromTail ? ' desc' : ''} limit ${p(5)}`,
    [o.id, o.stream, o.claim, o.afterSeq, o.maxChunks + 1],
  )
  if (o.fromTail) rows.reverse()
  const more = rows.length > o.maxChunks
  const kept = more ? (o.fromTail ? rows.slice(1) : rows.slice(0, -1)) : rows
  return {
    text: kept.map((r) => r.data).join(''),
    lastSeq: kept.length > 0 ? Number(kept.at(-1)!.seq) : o.afterSeq,
    more,
  }
}

/**
 * An ended run's stream from the row: from character `from` (1-based), at most its last `maxChars`, cut
 * in the database. `length` is the stream's whole length; `claims` tells which run the row now holds.
 */
export async function endedText(
  backend: TaskStore,
  o: { id: string; stream: Stream; from: number; maxChars: number },
): Promise<{ claims: number; text: string; length: number } | undefined> {
  const p = backend.spelling.param
  // `o.stream` names one of two columns, never user text.
  const column = `"${o.stream}"`
  const [row] = await backend.query<{ claims: number | string; text: string | null; length: number | string | null }>(
    // SQLite numbers no parameter (each `?` takes the next value), so each use has its own.
    `select "claims", substr(${column}, case when length(${column}) - ${p(1)} + 1 > ${p(2)} then length(${column}) - ${p(3)} + 1 else ${p(4)} end) as "text", length(${column}) as "length" from "sq_tasks" where "id" = ${p(5)}`,
    [o.from, o.maxChars, o.maxChars, o.from, o.id],
  )
  return row && { claims: Number(row.claims), text: row.text ?? '', length: Number(row.length ?? 0) }
}
