import { setTimeout as sleep } from 'node:timers/promises'
import { NotFoundError } from './errors.js'
import type { Connection } from './storage/backend.js'
import * as follow from './storage/follow-repository.js'
import { getTask, type TaskStore } from './storage/task-repository.js'
import { isTerminal, type Status } from './task.js'
import type { Task } from './types.js'

/**
 * Following a run's output: `sq show --follow`, the dashboard and `sq top` poll `followStep`, which reads the
 * chunks after the cursor while the run goes on, the rest of the row's text once it ended; a retry starts over.
 */
export type { Stream, TaskHead } from './storage/follow-repository.js'

/** Where a follower is in a run's stream. */
export interface FollowCursor {
  /** The run followed (its claim). */
  claim: number
  /** The last chunk read. */
  seq: number
  /** Characters (code points, as the databases count them) read of the run so far. */
  sent: number
  /** True while what was read is the run's stream from its start, with no tail taken in its place. */
  whole: boolean
  /** The status the run was seen ended in, once its end was read. */
  ended: Status | null
}

export interface FollowStep {
  head: follow.TaskHead
  /** What is new in the stream. */
  text: string
  /** `text` starts over (a new run, or a tail taken afresh) rather than continuing what was read. */
  restart: boolean
  /** With `restart`: earlier text of the run was left out. */
  clipped: boolean
  /** More chunks are waiting: step again at once. */
  more: boolean
  /** The run has ended and its stream has been read to its end. */
  ended: boolean
  /** Pass it to the next step; null until a run was read. */
  cursor: FollowCursor | null
}

export interface FollowOptions {
  stream?: follow.Stream
  /** Where the first read of a running run starts: its start (then all of it, in batches), or its tail. */
  from?: 'start' | 'tail'
  maxChunks?: number
  /** The most characters of an ended run's text read afresh (its tail); default all of it. */
  tailChars?: number
}

/** More than any text sq keeps (maxOutputSize is a byte count). */
const ALL = 2 ** 31 - 1
const SURROGATE_PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g
const codePoints = (text: string) => text.length - (text.match(SURROGATE_PAIR)?.length ?? 0)

/** One step of following task `id`'s stream from `cursor`; null once the task is gone. */
export async function followStep(
  backend: TaskStore,
  id: string,
  cursor: FollowCursor | null,
  o: FollowOptions = {},
): Promise<FollowStep | null> {
  const head = await follow.taskHead(backend, id)
  if (!head) return null
  const { stream = 'output', maxChunks = 500 } = o
  const step: FollowStep = { head, text: '', restart: false, clipped: false, more: false, ended: false, cursor }
  const sameRun = cursor !== null && cursor.claim === head.claims
  if (head.status === 'progress') {
    const c = sameRun ? cursor : { claim: head.claims, seq: 0, sent: 0, whole: true, ended: null }
    const fromTail = o.from === 'tail' && c.seq === 0
    const read = await follow.chunksAfter(backend, { id, claim: c.claim, stream, afterSeq: c.seq, maxChunks, fromTail })
    const clipped = fromTail && read.more
    const restart = !sameRun || clipped
    const sent = (restart ? 0 : c.sent) + codePoints(read.text)
    const whole = c.whole && !clipped
    const next = { claim: c.claim, seq: read.lastSeq, sent, whole, ended: null }
    return { ...step, text: read.text, restart, clipped, more: !fromTail && read.more, cursor: next }
  }
  if (!isTerminal(head.status)) return step
  if (sameRun && cursor.ended === head.status) return { ...step, ended: true }
  const continues = sameRun && cursor.whole
  const from = continues ? cursor.sent + 1 : 1
  const maxChars = continues ? ALL : (o.tailChars ?? ALL)
  const read = await follow.endedText(backend, { id, stream, from, maxChars })
  // Gone, or a new run began between the two reads: the next step follows it.
  if (!read || read.claims !== head.claims) return step
  const clipped = !continues && read.length > maxChars
  const sent = from - 1 + codePoints(read.text)
  const next = { claim: head.claims, seq: cursor?.seq ?? 0, sent, whole: !clipped, ended: head.status }
  return { ...step, text: read.text, restart: !continues, clipped, ended: true, cursor: next }
}

export interface FollowTaskOptions {
  pollMs?: number
  signal?: AbortSignal
  onStatus?: (status: Status) => void
}

/** See Queue.follow; `id` is a full id. */
export async function followTask(
  connection: Connection,
  id: string,
  onOutput: (text: string) => void,
  o: FollowTaskOptions = {},
): Promise<Task> {
  const gone = () => new NotFoundError(`task ${id} was deleted while it was followed`)
  let cursor: FollowCursor | null = null
  for (;;) {
    const step = await followStep(connection, id, cursor)
    if (!step) throw gone()
    o.onStatus?.(step.head.status)
    if (step.text) onOutput(step.text)
    if (step.ended) return (await getTask(connection, id)) ?? Promise.reject(gone())
    cursor = step.cursor
    if (!step.more) await sleep(o.pollMs ?? 100, undefined, { signal: o.signal })
  }
}
