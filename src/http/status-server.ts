import http from 'node:http'
import { coerceError, NotFoundError, UsageError } from '../errors.js'
import type { Queue } from '../queue/queue.js'
import { statusLabel, type Task } from '../types.js'

/**
 * The seed's HTTP status view, read-only: `GET /task?task_id=ID&type=json` returns the record;
 * without `type=json`, a small HTML page that refreshes itself until the task ends.
 */
export function createStatusServer(queue: Queue): http.Server {
  return http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'read-only: only GET is served' })
    if (url.pathname !== '/task') return send(res, 404, { error: 'not found: use /task?task_id=ID[&type=json]' })
    const id = url.searchParams.get('task_id')
    if (!id) return send(res, 400, { error: 'task_id is required' })
    try {
      const task = await queue.get(id)
      if (url.searchParams.get('type') === 'json') return send(res, 200, task)
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(task))
    } catch (error) {
      const e = coerceError(error)
      const status = e instanceof NotFoundError ? 404 : e instanceof UsageError ? 400 : 500
      send(res, status, { error: e.message })
    }
  })
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body))
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function page(t: Task): string {
  const live = t.status === 'queued' || t.status === 'progress'
  const row = (k: string, v: unknown) => `<tr><th>${k}</th><td>${escapeHtml(v === null || v === undefined ? '—' : String(v))}</td></tr>`
  const block = (title: string, text: string | null) => (text ? `<h2>${title}</h2><pre>${escapeHtml(text)}</pre>` : '')
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(t.task)} — ${statusLabel(t.status)}</title>
${live ? '<meta http-equiv="refresh" content="1">' : ''}
<style>body{font:14px system-ui;margin:2em}th{text-align:left;padding-right:1em}pre{background:#f4f4f4;padding:1em;overflow:auto}</style></head>
<body><h1>${escapeHtml(t.task)}</h1><table>
${row('id', t.id)}${row('status', statusLabel(t.status))}${row('args', JSON.stringify(t.args))}${row('attempts', `${t.attempts} of ${t.max_attempts}`)}
${row('created', t.created)}${row('started', t.started)}${row('finished', t.finished)}${row('worker', t.worker)}
${t.progress ? row('progress', `${t.progress.current ?? '?'}/${t.progress.total ?? '?'} ${t.progress.message ?? ''}`) : ''}
</table>${block('Output', t.output)}${block('Error', t.error)}${block('Log', t.log)}</body></html>`
}
