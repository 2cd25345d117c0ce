import type http from 'node:http'
import type { Queue } from '../queue/queue.js'
import { jsonFieldText, progressText } from '../display-text.js'
import { statusLabel, type Task } from '../types.js'
import { escapeHtml, sendError, sendJson, sendText } from './respond.js'

/**
 * The seed's HTTP status view, kept as it was: `GET /task?task_id=ID&type=json` returns the record;
 * without `type=json`, a small HTML page that refreshes itself until the task ends.
 */
export async function taskView(queue: Queue, url: URL, res: http.ServerResponse): Promise<void> {
  const id = url.searchParams.get('task_id')
  if (!id) return sendJson(res, 400, { error: 'task_id is required' })
  try {
    const task = await queue.get(id)
    if (url.searchParams.get('type') === 'json') return sendJson(res, 200, task)
    sendText(res, 200, 'text/html; charset=utf-8', page(task))
  } catch (error) {
    sendError(res, error)
  }
}

function page(t: Task): string {
  const live = t.status === 'queued' || t.status === 'progress'
  const row = (k: string, v: unknown) =>
    `<tr><th>${k}</th><td>${escapeHtml(v === null || v === undefined ? '—' : String(v))}</td></tr>`
  const block = (title: string, text: string | null) => (text ? `<h2>${title}</h2><pre>${escapeHtml(text)}</pre>` : '')
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(t.task)} — ${statusLabel(t.status)}</title>
${live ? '<meta http-equiv="refresh" content="1">' : ''}
<style>body{font:14px system-ui;margin:2em}th{text-align:left;padding-right:1em}pre{background:#f4f4f4;padding:1em;overflow:auto}</style></head>
<body><p><a href="/#/task/${escapeHtml(t.id)}">Open in the dashboard</a></p><h1>${escapeHtml(t.task)}</h1><table>
${row('id', t.id)}${row('status', statusLabel(t.status))}${row('args', jsonFieldText(t.args))}${row('attempts', `${t.attempts} of ${t.max_attempts}`)}
${row('created', t.created)}${row('started', t.started)}${row('finished', t.finished)}${row('worker', t.worker)}
${t.progress ? row('progress', progressText(t.progress)) : ''}
</table>${block('Output', t.output)}${block('Error', t.error)}${block('Log', t.log)}</body></html>`
}
