import type { RunRef } from '../storage/fencing.js'
import type { Claimed } from '../storage/run-repository.js'
import type { Progress } from '../types.js'
import type { TaskProcess } from './task-process.js'

/**
 * One claimed run of a task, in the worker, through its states:
 *
 *   waiting ──hand──▶ handed ──begin──▶ running ──process ends──▶ ending ──verdict written──▶ (forgotten)
 *      ▲  │             │  └──refused──────────────────────────────▲
 *      │  └── lost ◀────┴─────────────────┘   (cancelled, requeued or rescued by another worker: no verdict)
 *      └── taken back ──┘
 *
 * `waiting` and `handed` (in a task process's batch, behind the run it is on) are not started in the
 * database. `lost` comes from any state, ending included (a flush finds the task gone after the end).
 * Only the methods below change the state, and each throws on a transition the diagram does not have:
 * a worker bug shows where it happens, not as a task run twice or never.
 */
export type RunState = 'waiting' | 'handed' | 'running' | 'ending' | 'lost'

export class Run {
  private current: RunState = 'waiting'
  /** When the run began in, and was done in, its task process (worker's clock, ms; 0 before). */
  startedAt = 0
  endedAt = 0
  readonly id: string
  readonly ref: RunRef
  readonly output: RunOutput
  proc: TaskProcess | undefined
  /** Handed, and its process was asked to give it back (`skip`); the answer is pending. */
  retracted = false
  /** An output flush in flight; the verdict waits for it, since it folds what the flush writes. */
  flushing: Promise<void> | undefined
  /** Some output or log has been written as chunks. */
  flushed = false

  constructor(
    readonly task: Claimed,
    maxOutputSize: number,
    /** The start is in the database (markStarted, or not needed: the verdict writes it). */
    public startRecorded: boolean,
  ) {
    this.id = task.id
    this.ref = { id: task.id, claim: task.claim }
    this.output = new RunOutput(maxOutputSize)
  }

  get state(): RunState {
    return this.current
  }

  handed(): void {
    this.move(['waiting'], 'handed')
  }

  /** Its task process began it; a run lost meanwhile stays lost (the start kills it). */
  started(): void {
    this.startedAt = Date.now()
    if (this.current !== 'lost') this.move(['handed'], 'running')
  }

  /** Its task process is done with it (the first word counts: a process that dies later does not move it). */
  processDone(): void {
    this.endedAt ||= Date.now()
  }

  /** Its verdict is being written. A run refused before it began has no time of its own. */
  ending(): void {
    this.move(['handed', 'running'], 'ending')
    this.startedAt ||= this.endedAt
  }

  /**
   * Its process never began it: waiting again (true), or — lost, or `keep` false (the worker stops) —
   * lost (false).
   */
  takenBack(keep: boolean): boolean {
    this.proc = undefined
    this.retracted = false
    const back = keep && this.current !== 'lost'
    this.move(['handed', 'lost'], back ? 'waiting' : 'lost')
    return back
  }

  /** Its task is no longer this worker's (cancel, requeue, rescue): it gets no verdict. Returns the state it left. */
  lose(): RunState {
    const was = this.current
    this.current = 'lost'
    return was
  }

  private move(from: readonly RunState[], to: RunState): void {
    if (!from.includes(this.current))
      throw new Error(`internal error: run ${this.id} cannot go from ${this.current} to ${to}`)
    this.current = to
  }
}

type Stream = 'output' | 'log'

/**
 * What a run has produced and not yet written to the database. Appends cost O(chunk); each stream
 * is cut at `maxBytes` with a marker, so a task that floods its output cannot flood the database.
 */
export class RunOutput {
  private pending: Record<Stream, string> = { output: '', log: '' }
  private written: Record<Stream, number> = { output: 0, log: 0 }
  private cut: Record<Stream, boolean> = { output: false, log: false }
  private progress: Progress | undefined

  constructor(private readonly maxBytes: number) {}

  append(stream: Stream, text: string): void {
    if (this.cut[stream] || text === '') return
    const room = this.maxBytes - this.written[stream]
    const size = Buffer.byteLength(text)
    if (size <= room) {
      this.pending[stream] += text
      this.written[stream] += size
      return
    }
    this.pending[stream] += Buffer.from(text)
      .subarray(0, Math.max(0, room))
      .toString('utf8')
      .replace(/\uFFFD$/, '')
    this.pending[stream] += `\n[sq: ${stream} truncated at maxOutputSize (${this.maxBytes} bytes)]\n`
    this.written[stream] = this.maxBytes
    this.cut[stream] = true
  }

  setProgress(progress: Progress): void {
    this.progress = progress
  }

  get empty(): boolean {
    return this.pending.output === '' && this.pending.log === '' && this.progress === undefined
  }

  /** Puts a batch that could not be written back in front (a newer progress wins); the cut stays put. */
  putBack(batch: ReturnType<RunOutput['take']>): void {
    this.pending.output = (batch.output ?? '') + this.pending.output
    this.pending.log = (batch.log ?? '') + this.pending.log
    this.progress ??= batch.progress
  }

  take(): { output?: string; log?: string; progress?: Progress } {
    const batch = {
      ...(this.pending.output ? { output: this.pending.output } : {}),
      ...(this.pending.log ? { log: this.pending.log } : {}),
      ...(this.progress ? { progress: this.progress } : {}),
    }
    this.pending = { output: '', log: '' }
    this.progress = undefined
    return batch
  }
}
