import type { Progress } from '../types.js'

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
