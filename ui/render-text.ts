import Table from 'cli-table3'
import type { QueueStats } from '../src/queue/stats.js'
import { STATUSES } from '../src/types.js'
import { escapeControl, formatDuration, statusLabel } from './format.js'
import { withoutTrailingSpaces } from './tables.js'

/** cli-table3 without borders (`sq stats`, `sq list` on a terminal): columns two spaces apart, easy to grep. */
export const BARE = {
  ...Object.fromEntries(
    'top top-mid top-left top-right bottom bottom-mid bottom-left bottom-right left left-mid mid mid-mid right right-mid'
      .split(' ')
      .map((name) => [name, '']),
  ),
  middle: '  ',
}

/** A table of BARE chars, its head bold or not. */
export function tableOf(head: string[], rows: (string | number)[][], o: { boldHead: boolean }): string {
  const table = new Table({
    head,
    style: { head: o.boldHead ? ['bold'] : [], border: [], compact: true, 'padding-left': 0, 'padding-right': 0 },
    chars: BARE,
  })
  table.push(...rows)
  return table.toString()
}

export function renderStats(s: QueueStats): string {
  const lines = [
    STATUSES.map((st) => `${statusLabel(st)}: ${s.estimated.includes(st) ? '~' : ''}${s.counts[st]}`).join('   '),
    `Oldest queued: ${s.oldest_queued_age_seconds === null ? 'none waiting' : `${formatDuration(s.oldest_queued_age_seconds * 1000)} ago`}`,
    `Ended (completed/failed): last 1m ${s.recent['1m'].completed}/${s.recent['1m'].failed}   5m ${s.recent['5m'].completed}/${s.recent['5m'].failed}   15m ${s.recent['15m'].completed}/${s.recent['15m'].failed}`,
    `Workers: ${s.workers.length === 0 ? 'none alive' : escapeControl(s.workers.map((w) => `${w.name} (${w.running}/${w.concurrency} running)`).join(', '), false)}`,
  ]
  if (s.paused_queues.length > 0)
    lines.push(`Paused queues: ${escapeControl(s.paused_queues.map((p) => p.queue).join(', '), false)}`)
  if (s.tasks.length > 0) {
    const rows = s.tasks.map((t) => [escapeControl(t.task, false), ...STATUSES.map((st) => t[st])])
    lines.push(
      '',
      withoutTrailingSpaces(tableOf(['TASK', ...STATUSES.map((st) => st.toUpperCase())], rows, { boldHead: false })),
    )
  }
  return lines.join('\n')
}
