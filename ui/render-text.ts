import Table from 'cli-table3'
import type { QueueStats } from '../src/queue/stats.js'
import { progressText } from '../src/text.js'
import { STATUSES, type Task } from '../src/types.js'
import {
  escapeControl,
  firstLine,
  formatAgo,
  formatBytes,
  formatDuration,
  shortId,
  statusLabel,
  truncate,
} from './format.js'

/** Human renderings of tasks for the non-interactive commands; `--json` prints the data instead. */

/** cli-table3 without borders: columns separated by two spaces, easy to read and to grep. */
export const BARE = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
}

export function renderTaskTable(tasks: Task[], width = process.stdout.columns || 120): string {
  if (tasks.length === 0) return 'No tasks.'
  const summaryWidth = Math.max(12, width - 8 - 13 - 30 - 14 - 16)
  const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR
  const table = new Table({
    head: ['ID', 'STATUS', 'TASK', 'MODIFIED', 'OUTPUT / ERROR'],
    style: { head: color ? ['bold'] : [], border: [], compact: true, 'padding-left': 0, 'padding-right': 0 },
    chars: BARE,
  })
  for (const t of tasks) {
    const summary = t.status === 'failed' ? firstLine(t.error) : firstLine(t.output)
    table.push([
      shortId(t.id),
      statusLabel(t.status),
      truncate(escapeControl(t.task, false), 30),
      formatAgo(t.modified),
      truncate(summary, summaryWidth),
    ])
  }
  return withoutTrailingSpaces(table.toString())
}

/** cli-table3 pads every cell to its column's width, the last one too: spaces a diff or a grep trips on. */
function withoutTrailingSpaces(text: string): string {
  return text.replace(/[ \t]+$/gm, '')
}

function section(title: string, body: string | null): string[] {
  if (body === null || body === '') return []
  return ['', `${title}:`, escapeControl(body.replace(/\n$/, ''))]
}

export function renderTaskDetail(t: Task): string {
  const runtime =
    t.duration_ms === null
      ? null
      : `${formatDuration(t.duration_ms)} wall, ${t.cpu_ms ?? 0} ms CPU, ${formatBytes(t.peak_rss_bytes)} peak RSS`
  const fields: Array<[string, string | number | null]> = [
    ['id', t.id],
    ['task', escapeControl(t.task, false)],
    ['status', statusLabel(t.status)],
    ['args', escapeControl(JSON.stringify(t.args), false)],
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
    ['progress', t.progress ? escapeControl(progressText(t.progress), false) : null],
    ['resources', runtime],
  ]
  const width = Math.max(...fields.map(([k]) => k.length))
  const lines = fields.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v ?? '-'}`)
  return [...lines, ...section('output', t.output), ...section('error', t.error), ...section('log', t.log)].join('\n')
}

export function renderStats(s: QueueStats): string {
  const statuses = STATUSES
  const lines = [
    statuses.map((st) => `${statusLabel(st)}: ${s.counts[st]}`).join('   '),
    `Oldest queued: ${s.oldest_queued_age_seconds === null ? 'none waiting' : `${formatDuration(s.oldest_queued_age_seconds * 1000)} ago`}`,
    `Ended (completed/failed): last 1m ${s.recent['1m'].completed}/${s.recent['1m'].failed}   5m ${s.recent['5m'].completed}/${s.recent['5m'].failed}   15m ${s.recent['15m'].completed}/${s.recent['15m'].failed}`,
    `Workers: ${s.workers.length === 0 ? 'none alive' : s.workers.map((w) => `${w.name} (${w.running}/${w.concurrency} running)`).join(', ')}`,
  ]
  if (s.paused_queues.length > 0) lines.push(`Paused queues: ${s.paused_queues.map((p) => p.queue).join(', ')}`)
  if (s.tasks.length > 0) {
    const table = new Table({
      head: ['TASK', ...statuses.map((st) => st.toUpperCase())],
      style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 0 },
      chars: BARE,
    })
    for (const t of s.tasks) table.push([escapeControl(t.task, false), ...statuses.map((st) => t[st])])
    lines.push('', withoutTrailingSpaces(table.toString()))
  }
  return lines.join('\n')
}
