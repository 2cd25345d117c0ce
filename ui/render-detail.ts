import { jsonFieldText, progressText } from '../src/display-text.js'
import type { TaskRun, TaskWithRuns } from '../src/types.js'
import { escapeControl, formatBytes, formatDuration, statusLabel } from './format.js'

function section(title: string, body: string | null): string[] {
  if (body === null || body === '') return []
  return ['', `${title}:`, escapeControl(body.replace(/\n$/, ''))]
}

/** `sq show`'s rendering of one task, apart from the tables: a one-shot `sq show` loads no table code. */
export function renderTaskDetail(t: TaskWithRuns): string {
  const runtime =
    t.duration_ms === null
      ? null
      : `${formatDuration(t.duration_ms)} wall, ${t.cpu_ms ?? 0} ms CPU, ${formatBytes(t.peak_rss_bytes)} peak RSS`
  const fields: Array<[string, string | number | null]> = [
    ['id', t.id],
    ['task', t.task],
    ['status', statusLabel(t.status)],
    ['args', jsonFieldText(t.args)],
    ['queue', t.queue],
    ['priority', t.priority],
    ['key', t.key],
    ['attempts', `${t.attempts} of ${t.max_attempts}`],
    ['created', t.created],
    ['run at', t.run_at],
    ['started', t.started],
    ['finished', t.finished],
    ['modified', t.modified],
    ['worker', t.worker],
    ['worker pid', t.worker_pid],
    ['progress', t.progress ? progressText(t.progress) : null],
    ['resources', runtime],
  ]
  const width = Math.max(...fields.map(([k]) => k.length))
  // Every value escaped: any column may hold what another writer put there (a key, a worker name).
  const lines = fields.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${escapeControl(String(v ?? '-'), false)}`)
  return [
    ...lines,
    ...runsSection(t.runs),
    ...section('output', t.output),
    ...section('error', t.error),
    ...section('log', t.log),
  ].join('\n')
}

/** One line per run, oldest first; shown once there is more than the one run the fields above describe. */
function runsSection(runs: TaskRun[]): string[] {
  if (runs.length < 2) return []
  return [
    '',
    'runs:',
    ...runs.map((r, i) => {
      const outcome = r.outcome?.replace('_', ' ') ?? 'running'
      const why = r.error ? `: ${r.error.split('\n')[0]}` : ''
      const line = `${i + 1}. attempt ${r.attempt}, ${outcome}, ${r.worker ?? '-'}, ${r.started ?? '-'} → ${r.finished ?? '…'}${why}`
      return `  ${escapeControl(line, false)}`
    }),
  ]
}
