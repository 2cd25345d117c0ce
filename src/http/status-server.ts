import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import { coerceError, NotFoundError, UsageError } from '../errors.js'
import type { Queue } from '../queue/queue.js'
import { statusLabel, type Task } from '../types.js'

/**
 * The seed's HTTP status view, read-only: `GET /task?task_id=ID&type=json` returns the record;
 * without `type=json`, a small HTML page that refreshes itself until the task ends.
 */
export function createStatusServer(queue: Queue, o: { host: string }): http.Server {
  const names = hostNames(o.host)
  const server = http.createServer(async (req, res) => {
    const port = (server.address() as AddressInfo).port
    if (!hostAllowed(req.headers.host, names, port)) {
      const expected = [...names].map((name) => `${name}:${port}`).join(', ')
      // 421 Misdirected Request: this server is not the one that name stands for.
      res.writeHead(421, { 'content-type': 'text/plain; charset=utf-8' })
      res.end(`sq serve answers only for Host ${expected}\n`)
      return
    }
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
  return server
}

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]']

/** A host as the URL standard writes it: lower case, an IPv6 address in brackets. */
function normalHost(host: string): string | undefined {
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  return URL.canParse(`http://${bracketed}`) ? new URL(`http://${bracketed}`).hostname : undefined
}

/**
 * The names a browser may use to reach the server, judged from the address it is bound to. Checking
 * the Host header defeats DNS rebinding: a page of evil.example whose name is rebound to 127.0.0.1
 * still sends `Host: evil.example`. Bound to all interfaces, the machine's own names and addresses.
 */
function hostNames(bound: string): Set<string> {
  const host = normalHost(bound) ?? bound
  if (LOOPBACK.includes(host)) return new Set(LOOPBACK)
  if (host !== '0.0.0.0' && host !== '[::]') return new Set([host])
  const addresses = Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address))
  return new Set([...LOOPBACK, os.hostname().toLowerCase(), ...addresses.map((a) => normalHost(a) ?? a)])
}

/** Is `Host: header` one of `names` with the server's port (no port means 80, as HTTP says)? */
function hostAllowed(header: string | undefined, names: Set<string>, port: number): boolean {
  // Strictly host[:port]: `new URL` alone would read `evil@127.0.0.1` as the host 127.0.0.1.
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(header ?? '')
  return m !== null && names.has(normalHost(m[1]!) ?? '') && Number(m[2] ?? 80) === port
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
