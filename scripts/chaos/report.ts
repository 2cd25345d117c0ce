import fs from 'node:fs'
import type { Figures } from './tally.js'

/**
 * The soak's verdict: one small table (a column per database), a ✗ beside every figure that must be
 * zero and is not, then the examples behind each ✗ and the last lines of every worker that died.
 */

interface Row {
  label: string
  value: (f: Figures) => string | number
  /** The figure must be zero for the soak to pass. */
  mustBeZero?: (f: Figures) => number
}

const count = (pick: (f: Figures) => number): Pick<Row, 'value' | 'mustBeZero'> => ({ value: pick, mustBeZero: pick })

const ROWS: Row[] = [
  { label: 'faults injected', value: (f) => f.faults.length },
  { label: 'tasks enqueued', value: (f) => f.enqueued },
  { label: 'enqueues refused (db away)', value: (f) => f.refused },
  { label: 'tasks stored', value: (f) => f.stored },
  { label: 'tasks lost', ...count((f) => f.lost) },
  { label: 'final statuses', value: (f) => statuses(f) },
  { label: 'unexpected final status', ...count((f) => f.unexpectedStatus) },
  { label: 'stuck after drain', ...count((f) => f.stuck) },
  { label: 'executions', value: (f) => f.executions },
  { label: 'executions per task (runs:tasks)', value: (f) => perTask(f) },
  { label: 're-runs (explained by a fault)', value: (f) => `${f.reruns - f.unexplained} of ${f.reruns}` },
  { label: 're-runs of a finished run', value: (f) => f.rerunsOfFinished },
  { label: 're-runs unexplained', ...count((f) => f.unexplained) },
  { label: 'tasks with an attempt number reused', value: (f) => f.attemptReused },
  { label: 'completed, never ran', ...count((f) => f.completedNeverRan) },
  { label: 'generator outputs missing pieces', ...count((f) => f.piecesMissing) },
  { label: 'generator outputs mixed', ...count((f) => f.piecesMixed) },
  { label: 'worker deaths not injected', ...count((f) => f.deaths.length) },
  { label: 'processes left at the last exit', value: (f) => f.leftoversAtExit },
  { label: 'leftover processes (1 s later)', ...count((f) => f.leftovers.length) },
  { label: '"cannot claim" lines (peak/s)', value: (f) => `${f.claimRetryLines} (${f.claimRetryPeak})` },
]

function statuses(f: Figures): string {
  return Object.entries(f.statuses)
    .sort((a, b) => b[1] - a[1])
    .map(([status, n]) => `${status} ${n}`)
    .join(', ')
}

/** Prints the table and the details; returns whether every must-be-zero figure is zero. */
export function printReport(results: Array<{ db: string; figures: Figures }>, out = process.stdout): boolean {
  const cells = ROWS.map((row) =>
    results.map(({ figures }) => {
      const bad = (row.mustBeZero?.(figures) ?? 0) > 0
      return `${row.value(figures)}${bad ? ' ✗' : ''}`
    }),
  )
  const labelWidth = Math.max(...ROWS.map((r) => r.label.length))
  const widths = results.map((r, i) => Math.max(r.db.length, ...cells.map((c) => c[i]!.length)))
  const line = (label: string, values: string[]) =>
    `${label.padEnd(labelWidth)}  ${values.map((v, i) => v.padStart(widths[i]!)).join('  ')}`.trimEnd()
  out.write(
    `\n${line(
      '',
      results.map((r) => r.db),
    )}\n`,
  )
  for (const [i, row] of ROWS.entries()) out.write(`${line(row.label, cells[i]!)}\n`)

  let pass = true
  for (const { db, figures } of results) {
    const failed = ROWS.filter((row) => (row.mustBeZero?.(figures) ?? 0) > 0)
    if (failed.length > 0) pass = false
    out.write(`\n${db}: ${failed.length === 0 ? 'PASS' : `FAIL (${failed.map((r) => r.label).join(', ')})`}\n`)
    out.write(`  faults: ${faultSummary(figures)}\n`)
    for (const line of figures.details) out.write(`  ${line}\n`)
    for (const death of figures.deaths) {
      const how = death.signal ? `signal ${death.signal}` : `exit ${death.code}`
      out.write(`  worker ${death.pid} ended (${how}) ${death.after}; the last lines of ${death.log}:\n`)
      for (const l of lastLines(death.log, 8)) out.write(`    ${l}\n`)
    }
    for (const p of figures.leftovers) out.write(`  leftover process ${p.pid}: ${p.command}\n`)
  }
  return pass
}

function perTask(f: Figures): string {
  return Object.entries(f.perTask)
    .map(([runs, tasks]) => `${runs}:${tasks}`)
    .join(' ')
}

function faultSummary(f: Figures): string {
  const counts = new Map<string, number>()
  for (const fault of f.faults) counts.set(fault.kind, (counts.get(fault.kind) ?? 0) + 1)
  return [...counts].map(([kind, n]) => `${kind} ×${n}`).join(', ') || 'none'
}

function lastLines(file: string, n: number): string[] {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
  return text.trimEnd().split('\n').slice(-n)
}
