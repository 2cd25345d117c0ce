/// <reference lib="dom" />
import type { Overview, StreamEvents, TaskDetail } from './api-types.js'
import type { Kit } from './dashboard-client-kit.js'

/**
 * One task's page, `#/task/ID` (served as its own source, as clientKit is): its record, redrawn on its
 * stream's events, and its output, appended live from GET /api/tasks/ID/events (SSE).
 */
export function clientTask(k: Kit) {
  const { esc, when, LABEL } = k
  let source: EventSource | undefined

  function record(t: TaskDetail): string {
    const row = (name: string, v: string) => `<tr><th>${esc(name)}</th><td>${v}</td></tr>`
    return `<table class="record">
      ${row('Id', `<span class="mono">${esc(t.id)}</span>`)}${row('Status', `<span id="task-status">${k.badge(t.status)}</span>`)}
      ${row('Queue', esc(t.queue))}${row('Args', `<span class="mono">${esc(k.jsonText(t.args))}</span>`)}
      ${row('Attempts', esc(`${t.attempts} of ${t.max_attempts}`))}${row('Priority', esc(t.priority))}
      ${row('Created', when(t.created))}${row('Run at', when(t.run_at))}${row('Started', when(t.started))}
      ${row('Finished', when(t.finished))}${row('Duration', esc(k.duration(t.duration_ms)))}${row('Worker', esc(t.worker ?? '—'))}
      ${t.progress ? row('Progress', esc(t.progress_text)) : ''}${t.key ? row('Key', esc(t.key)) : ''}
    </table>
    ${runsTable(t.runs)}
    ${t.error ? `<h2>Error</h2><pre id="error">${esc(t.error)}</pre>` : ''}
    ${t.log ? `<details><summary>Log</summary><pre id="log">${esc(t.log)}</pre></details>` : ''}`
  }

  /** The task's runs, oldest first, once there is more than the one the record above describes. */
  function runsTable(runs: TaskDetail['runs']): string {
    if (runs.length < 2) return ''
    const rows = runs.map((r) => [
      esc(r.attempt),
      esc((r.outcome ?? 'running').replace('_', ' ')),
      esc(r.worker ?? '—'),
      when(r.started),
      when(r.finished),
      esc((r.error ?? '').split('\n')[0]),
    ])
    return `<h2>Runs</h2>${k.table(['Attempt', 'Outcome', 'Worker', 'Started', 'Finished', 'Error'], rows, '', 'runs')}`
  }

  function follow(id: string, render: () => void): void {
    const out = document.getElementById('output')!
    const state = document.getElementById('stream-state')!
    const es = new EventSource(`/api/tasks/${encodeURIComponent(id)}/events`)
    source = es
    const on = <E extends keyof StreamEvents>(name: E, handle: (data: StreamEvents[E]) => void) =>
      es.addEventListener(name, (ev) => handle(JSON.parse((ev as MessageEvent<string>).data)))
    on('reset', (d) => {
      out.textContent = d.clipped ? '[earlier output left out]\n' : ''
      state.textContent = `attempt ${d.attempt}`
    })
    on('output', (d) => {
      const stick = out.scrollTop + out.clientHeight >= out.scrollHeight - 4
      out.textContent += d.text
      if (stick) out.scrollTop = out.scrollHeight
    })
    on('state', render)
    on('end', (d) => {
      // The server closes the stream after `end`; without close() EventSource would reconnect.
      es.close()
      state.textContent = `ended: ${LABEL[d.status] ?? d.status}`
      render()
    })
  }

  return {
    stop(): void {
      source?.close()
      source = undefined
    },
    /** Draws the page; later calls redraw only the record, as the output pane keeps what was appended. */
    async render(id: string, o: Overview, current: () => boolean, render: () => void): Promise<void> {
      const t = await k.api<TaskDetail>(`/api/tasks/${encodeURIComponent(id)}`)
      if (!current()) return
      const actions = o.actions.enabled ? k.taskAction(t, true) : ''
      const details = document.getElementById('details')
      if (details) {
        details.innerHTML = record(t)
        document.getElementById('task-actions')!.innerHTML = actions
        return
      }
      document.getElementById('main')!.innerHTML =
        `<p><a href="#/tasks">‹ Tasks</a> · <a href="/task?task_id=${esc(t.id)}">plain view</a></p>
        <section><h1 class="mono">${esc(t.task)}</h1><div id="task-actions">${actions}</div><div id="details">${record(t)}</div></section>
        <section><h2>Output <small id="stream-state"></small></h2><pre id="output"></pre></section>`
      follow(t.id, render)
    },
  }
}

export type TaskView = ReturnType<typeof clientTask>
