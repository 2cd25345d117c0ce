import fs from 'node:fs'
import type { Queue } from '../../src/index.js'
import { type Fault, WORKER_FAULTS } from './faults.js'
import type { Death } from './fleet.js'
import { EXPECTED, type Enqueued } from './workload.js'

/**
 * What a soak did, counted from three independent sources: the tasks the enqueuer was told it added,
 * the token lines the executions wrote, and the rows sq stored. A re-run (an execution after one that
 * did not end in a deliberate failure) is explained only by a fault that could have caused it: one
 * that hit the run's worker (kill -9, SIGSTOP, SIGTERM) or, for a run that had not finished, the
 * database (restart, down, full) — within the run's window, from its start to the next execution's.
 */

export interface Execution {
  start: number
  exec: string
  attempt: string
  pid: number
  /** `end` (returned), `fail` (its deliberate failure), or undefined: it never got that far. */
  event?: 'end' | 'fail'
  endAt?: number
}

export interface Figures {
  enqueued: number
  refused: number
  stored: number
  lost: number
  statuses: Record<string, number>
  unexpectedStatus: number
  stuck: number
  executions: number
  /** How many tasks ran once, twice, …: executions per task → tasks. */
  perTask: Record<number, number>
  reruns: number
  rerunsOfFinished: number
  unexplained: number
  attemptReused: number
  completedNeverRan: number
  piecesMissing: number
  piecesMixed: number
  deaths: Death[]
  leftovers: Array<{ pid: number; command: string }>
  /** Processes of the soak alive the moment the last worker exited (the failing figure is `leftovers`, a second later). */
  leftoversAtExit: number
  faults: Fault[]
  claimRetryLines: number
  claimRetryPeak: number
  /** Lines for the report's details: examples of whatever went wrong. */
  details: string[]
}

export interface TallyInput {
  queue: Queue
  enqueued: Enqueued[]
  refused: number
  tokens: string
  faults: Fault[]
  deaths: Death[]
  leftovers: Array<{ pid: number; command: string }>
  leftoversAtExit: number
  logs: string[]
}

const FINAL = new Set(['completed', 'failed', 'cancelled'])
const SLACK_MS = 1_000

export async function tally(input: TallyInput): Promise<Figures> {
  const details: string[] = []
  const perKind = new Map<string, number>()
  // A few examples of each kind of trouble (the first word of the line), and a count of the rest.
  const note = (line: string) => {
    const kind = line.split(' ')[0]!
    const n = (perKind.get(kind) ?? 0) + 1
    perKind.set(kind, n)
    if (n <= 5) details.push(line)
  }
  const rows = await input.queue.backend.db.selectFrom('sq_tasks').select(['id', 'status', 'output', 'args']).execute()
  const byId = new Map(rows.map((r) => [String(r.id), r]))
  const runs = readTokens(input.tokens)

  const f: Figures = {
    ...{ enqueued: input.enqueued.length, refused: input.refused, stored: 0, lost: 0, statuses: {} },
    ...{ unexpectedStatus: 0, stuck: 0, executions: 0, perTask: {}, reruns: 0, rerunsOfFinished: 0, unexplained: 0 },
    ...{ attemptReused: 0, completedNeverRan: 0, piecesMissing: 0, piecesMixed: 0 },
    ...{ deaths: input.deaths, leftovers: input.leftovers, leftoversAtExit: input.leftoversAtExit },
    ...{ faults: input.faults, details },
    ...claimRetries(input.logs),
  }
  for (const execs of runs.values()) f.executions += execs.length

  for (const t of input.enqueued) {
    const row = byId.get(t.id)
    if (!row) {
      f.lost++
      note(`lost: ${t.cid} (${t.id}) was enqueued and is not stored`)
      continue
    }
    f.stored++
    f.statuses[row.status] = (f.statuses[row.status] ?? 0) + 1
    if (!FINAL.has(row.status)) {
      f.stuck++
      note(`stuck: ${t.cid} (${t.id}) is ${row.status} after the drain`)
    } else if (row.status !== EXPECTED[t.kind].status) {
      f.unexpectedStatus++
      note(`unexpected: ${t.cid} (${t.id}, ${t.kind}) ended ${row.status}, expected ${EXPECTED[t.kind].status}`)
    }
    const execs = runs.get(t.cid) ?? []
    f.perTask[execs.length] = (f.perTask[execs.length] ?? 0) + 1
    if (row.status === 'completed' && execs.length === 0) {
      f.completedNeverRan++
      note(`never-ran: ${t.cid} (${t.id}) is completed and no execution of it wrote a token`)
    }
    if (
      new Set(execs.map((e) => e.attempt).filter((a) => a !== '-')).size < execs.filter((e) => e.attempt !== '-').length
    )
      f.attemptReused++
    for (let k = 0; k + 1 < execs.length; k++) {
      const run = execs[k]!
      if (run.event === 'fail') continue
      f.reruns++
      if (run.event === 'end') f.rerunsOfFinished++
      if (!explained(run, execs[k + 1]!.start, input.faults)) {
        f.unexplained++
        note(`unexplained: re-run of ${t.cid} (${t.id}): ${describe(execs)}`)
      }
    }
    if (t.kind === 'pieces' && row.status === 'completed') checkPieces(t, row.output, execs, f, note)
  }
  for (const [kind, n] of perKind) if (n > 5) details.push(`… and ${n - 5} more "${kind} …" lines like those`)
  return f
}

function explained(run: Execution, nextStart: number, faults: Fault[]): boolean {
  return faults.some((fault) => {
    if (fault.end + SLACK_MS < run.start || fault.at > nextStart) return false
    if (WORKER_FAULTS.includes(fault.kind)) {
      // A run that finished is lost only with its worker's verdict: a kill, or a stop long enough to be declared dead.
      return fault.pid === run.pid && (run.event !== 'end' || fault.kind !== 'SIGTERM')
    }
    return run.event !== 'end'
  })
}

function checkPieces(
  t: Enqueued,
  output: string | null,
  execs: Execution[],
  f: Figures,
  note: (line: string) => void,
): void {
  const pieces = [...(output ?? '').matchAll(/([0-9a-f]{8}):(\d+);/g)]
  const owners = new Set(pieces.map((p) => p[1]))
  if (owners.size > 1) {
    f.piecesMixed++
    note(`mixed: output of ${t.cid} (${t.id}): ${abbreviate(output ?? '')}`)
  }
  const last = execs.at(-1)?.exec
  const expected = t.pieces ?? 0
  const seen = new Set(pieces.filter((p) => p[1] === last).map((p) => Number(p[2])))
  if (seen.size < expected) {
    f.piecesMissing++
    const missing = Array.from({ length: expected }, (_, i) => i).filter((i) => !seen.has(i))
    note(`missing: ${t.cid} (${t.id}) completed without pieces ${missing.join(',')} of its ${expected}`)
  }
}

function readTokens(file: string): Map<string, Execution[]> {
  const runs = new Map<string, Execution[]>()
  const byExec = new Map<string, Execution>()
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
  for (const line of text.split('\n')) {
    const [ms, cid, exec, attempt, pid, event] = line.split(' ')
    if (!event || !cid || !exec) continue
    if (event === 'start') {
      const run: Execution = { start: Number(ms), exec, attempt: attempt!, pid: Number(pid) }
      byExec.set(exec, run)
      runs.set(cid, [...(runs.get(cid) ?? []), run])
    } else {
      const run = byExec.get(exec)
      if (run) Object.assign(run, { event, endAt: Number(ms) })
    }
  }
  for (const execs of runs.values()) execs.sort((a, b) => a.start - b.start)
  return runs
}

function describe(execs: Execution[]): string {
  const t0 = execs[0]!.start
  return execs
    .map((e) => `${e.exec} attempt ${e.attempt} worker ${e.pid} +${e.start - t0}ms ${e.event ?? 'interrupted'}`)
    .join('; ')
}

function abbreviate(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text
}

/** The worker logs' `cannot claim tasks` lines: how many, and the most in one second of one worker. */
function claimRetries(logs: string[]): { claimRetryLines: number; claimRetryPeak: number } {
  let lines = 0
  let peak = 0
  for (const log of logs) {
    const perSecond = new Map<string, number>()
    const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : ''
    for (const m of text.matchAll(/^(\S{19})\S* cannot claim tasks/gm)) {
      lines++
      const n = (perSecond.get(m[1]!) ?? 0) + 1
      perSecond.set(m[1]!, n)
      peak = Math.max(peak, n)
    }
  }
  return { claimRetryLines: lines, claimRetryPeak: peak }
}
