import type http from 'node:http'
import type { Queue } from '../queue/queue.js'
import { jsonFieldText, progressText } from '../display-text.js'
import { STATUSES, statusLabel, type Task } from '../types.js'
import { clientKit, dashboardClient } from './dashboard-client.js'
import { clientTask, clientViews } from './dashboard-client-views.js'
import { sendError, sendJson, sendText } from './respond.js'

/** The pages of `sq serve`, their assets served from memory: no files beside the bundle, no CDN. */

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const LABELS = Object.fromEntries(STATUSES.map((s) => [s, statusLabel(s)]))

export const DASHBOARD_JS = `(() => {
const kit = (${clientKit.toString()})(${JSON.stringify(STATUSES)}, ${JSON.stringify(LABELS)});
(${dashboardClient.toString()})(kit, (${clientViews.toString()})(kit), (${clientTask.toString()})(kit));
})();
`

const TABS = ['Overview', 'Tasks', 'Queues', 'Workers', 'Schedules']

/** The page shell. `token` (with --allow-actions) is the CSRF token the script sends with each action. */
export function dashboardHtml(token: string | null): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${token === null ? '' : `<meta name="sq-token" content="${escapeHtml(token)}">`}
<title>sq dashboard</title><link rel="stylesheet" href="/assets/dashboard.css"></head>
<body><header><a href="#/" class="brand">sq</a><span>task queue dashboard</span>
<nav id="nav">${TABS.map((t) => `<a href="#/${t.toLowerCase()}" data-tab="${t.toLowerCase()}">${t}</a>`).join('')}</nav>
<span id="offline" hidden>cannot reach the server — retrying</span>${token === null ? '<span class="ro">read-only</span>' : ''}</header>
<div id="flash" hidden></div><main id="main"></main>
<script src="/assets/dashboard.js"></script></body></html>
`
}

export const DASHBOARD_CSS = `
:root{--fg:#1d2330;--muted:#6b7280;--line:#e5e7eb;--bg:#f7f8fa;--card:#fff;--ok:#15803d;--bad:#b91c1c;--run:#1d4ed8;--wait:#a16207}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;gap:1em;align-items:center;padding:.6em 1.5em;background:#111827;color:#e5e7eb}
header .brand{font-weight:700;font-size:1.3em;color:#fff;text-decoration:none}header .ro{margin-left:auto;color:#9ca3af}
#offline{color:#fca5a5}main{padding:1em 1.5em;max-width:1200px}
nav{display:flex;gap:.2em}nav a{color:#cbd5e1;text-decoration:none;padding:.3em .8em;border-radius:5px}nav a.on,nav a:hover{background:#374151;color:#fff}
h1{font-size:1.3em}h1.mono{font-size:1.3em;margin:.3em 0}#task-actions{margin:.5em 0}h2{font-size:1.05em;margin:1.2em 0 .4em}h2 small{font-weight:400;color:var(--muted)}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.3em 1em .8em;margin-bottom:1em}
.cards{display:flex;gap:.8em;flex-wrap:wrap;padding-top:.7em}.card{flex:1;min-width:110px;border-radius:6px;padding:.5em .8em;background:var(--bg);border-left:4px solid var(--muted)}
.card{color:inherit;text-decoration:none}.card .n{font-size:1.7em;font-weight:600}.card.queued{border-color:var(--wait)}.card.progress{border-color:var(--run)}
.card.completed{border-color:var(--ok)}.card.failed{border-color:var(--bad)}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3em .6em;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:500}table.record th{width:9em}
.mono,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.line{display:inline-block;max-width:28em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;vertical-align:bottom}
pre{background:#0f172a;color:#e2e8f0;padding:.8em 1em;border-radius:6px;max-height:28em;overflow:auto;white-space:pre-wrap;word-break:break-word}
.badge{padding:.05em .5em;border-radius:1em;font-size:.85em;background:#e5e7eb}.badge.queued{background:#fef3c7}
.badge.progress{background:#dbeafe}.badge.completed{background:#dcfce7}.badge.failed{background:#fee2e2}.badge.paused{background:#fde68a}
button{font:inherit;padding:.2em .8em;border:1px solid #cbd5e1;border-radius:5px;background:#fff;cursor:pointer}
button:disabled{opacity:.45;cursor:default}.tabs{display:flex;gap:.3em;margin:.7em 0 .5em}
.tab{padding:.2em .8em;border:1px solid #cbd5e1;border-radius:5px;color:inherit;text-decoration:none}.tab.on{background:#111827;color:#fff}
.scroll{overflow-x:auto}time{white-space:nowrap}.bulk{margin-top:.8em}td button+button{margin-left:.3em}
#search{width:100%;max-width:30em;padding:.35em .6em;margin-bottom:.5em;border:1px solid #cbd5e1;border-radius:5px}
.pager{display:flex;gap:1em;align-items:center;margin-top:.6em}.empty{color:var(--muted)}
#flash{position:fixed;right:1em;top:3.5em;padding:.6em 1em;border-radius:6px;background:#dcfce7;box-shadow:0 2px 8px #0002}
#flash.bad,.bad{color:var(--bad)}#flash.bad{background:#fee2e2}
svg{width:100%;height:110px;display:block;background:var(--bg);border-radius:6px}svg .c{fill:#22c55e}svg .f{fill:#ef4444}
.axis{display:flex;justify-content:space-between;color:var(--muted);font-size:.85em}
a{color:var(--run)}
`

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
    sendText(res, 200, 'text/html; charset=utf-8', taskHtml(task))
  } catch (error) {
    sendError(res, error)
  }
}

function taskHtml(t: Task): string {
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
