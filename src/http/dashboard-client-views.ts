/// <reference lib="dom" />
import type { Overview, StreamEvents, TaskDetail, TaskPage, Throughput } from './api-types.js'
import type { Kit } from './dashboard-client.js'

/**
 * The dashboard's tabs (served as its own source, as clientKit is), each drawn from the overview and what else
 * it fetches. The task list's status is in the URL (`#/tasks/STATUS`); its search and page are kept here.
 */
export function clientViews(k: Kit) {
  const { esc, table, when, duration, LABEL, STATUSES } = k
  const list = { status: 'queued', q: '', page: 1 }
  const purge = { olderThan: '7d' }
  const AGES: Record<string, string> = { '1h': '1 hour', '1d': '1 day', '7d': '7 days', '30d': '30 days' }
  const purgePath = () => `/api/purge?status=completed&older_than=${purge.olderThan}`

  document.addEventListener('input', (ev) => {
    const input = ev.target as HTMLInputElement
    if (input.id === 'search') {
      Object.assign(list, { q: input.value, page: 1 })
      k.refresh(250)
    }
    if (input.id === 'purge-age') {
      purge.olderThan = input.value
      // The button names the age now, not at the next redraw.
      input.parentElement!.querySelector('button')!.dataset.bulk = purgePath()
    }
  })
  document.addEventListener('click', (ev) => {
    const id = (ev.target as HTMLElement).id
    if (id !== 'prev' && id !== 'next') return
    list.page = id === 'prev' ? Math.max(1, list.page - 1) : list.page + 1
    k.refresh(0)
  })

  function chart(t: Throughput): string {
    const [w, h, minutes] = [600, 100, t.bucket_seconds / 60]
    const max = Math.max(1, ...t.buckets.map((b) => b.completed + b.failed))
    const bw = w / t.buckets.length
    const bars = t.buckets
      .map((b, i) => {
        const [hc, hf] = [(b.completed / max) * (h - 4), (b.failed / max) * (h - 4)]
        const title = `<title>${esc(`${new Date(b.at).toLocaleTimeString()}: ${b.completed} completed, ${b.failed} failed`)}</title>`
        return `<g>${title}<rect x="${i * bw + 1}" y="${h - hc}" width="${bw - 2}" height="${hc}" class="c"/><rect x="${i * bw + 1}" y="${h - hc - hf}" width="${bw - 2}" height="${hf}" class="f"/></g>`
      })
      .join('')
    return `<h2>Throughput <small>completed / failed per ${minutes} min, last hour</small></h2>
      <svg id="throughput-chart" viewBox="0 0 ${w} ${h}" preserveAspectRatio="none" role="img" aria-label="throughput">${bars}</svg>
      <div class="axis"><span>${(t.buckets.length * minutes).toFixed(0)} min ago</span><span>peak ${max} per ${minutes} min</span><span>now</span></div>`
  }

  async function overview(o: Overview): Promise<string> {
    const t = await k.api<Throughput>('/api/throughput')
    const now = Date.parse(o.at)
    const running = table(
      ['Task', 'Id', 'Worker', 'Elapsed', 'Progress', 'Last output'],
      o.running.map((r) => [
        esc(r.task),
        k.taskLink(r.id),
        esc(r.worker ?? '—'),
        esc(duration(r.started ? now - Date.parse(r.started) : null)),
        esc(r.progress_text ?? ''),
        `<span class="mono line">${esc(r.last_line)}</span>`,
      ]),
      'Nothing is running.',
    )
    return `<section><div id="counts" class="cards">${k.countsCards(o)}</div></section>
      <section id="throughput">${chart(t)}</section><section id="running"><h2>Running</h2>${running}</section>`
  }

  async function tasks(o: Overview, status = 'queued'): Promise<string> {
    if (status !== list.status) Object.assign(list, { status, page: 1 })
    const params = { status: status === 'all' ? '' : status, q: list.q, page: String(list.page), limit: '20' }
    const page = await k.api<TaskPage>(`/api/tasks?${new URLSearchParams(params)}`)
    const on = o.actions.enabled
    const rows = table(
      ['Task', 'Id', 'Status', 'Queue', 'Attempts', 'Modified', 'Duration', 'Error', ...(on ? [''] : [])],
      page.tasks.map((x) => [
        esc(x.task),
        k.taskLink(x.id),
        k.badge(x.status),
        esc(x.queue),
        esc(`${x.attempts}/${x.max_attempts}`),
        when(x.modified),
        esc(duration(x.duration_ms)),
        `<span class="line">${esc((x.error_head ?? '').split('\n')[0])}</span>`,
        ...(on ? [k.taskAction(x)] : []),
      ]),
      list.q ? 'No task matches.' : 'No tasks.',
    )
    const tab = (s: string, label: string, n = '') =>
      `<a class="tab${s === status ? ' on' : ''}" href="#/tasks/${s}">${esc(label)}${n}</a>`
    const tabs =
      STATUSES.map((s) => tab(s, LABEL[s]!, ` <small>${esc(o.counts[s])}</small>`)).join('') + tab('all', 'All')
    return `<section id="tasks"><div class="tabs">${tabs}</div>
      <input id="search" type="search" placeholder="Search id, task, key, args, error, output" value="${esc(list.q)}">
      ${rows}<div class="pager"><button id="prev" ${list.page <= 1 ? 'disabled' : ''}>‹ Newer</button>
      <span id="page">page ${list.page}</span><button id="next" ${page.more ? '' : 'disabled'}>Older ›</button></div></section>`
  }

  async function queues(o: Overview): Promise<string> {
    const on = o.actions.enabled
    const acts = (q: Overview['queues'][number]) =>
      (q.paused
        ? k.action('Resume', k.path('queues', q.queue, 'resume'), `Resume queue ${q.queue}?`)
        : k.action('Pause', k.path('queues', q.queue, 'pause'), `Pause queue ${q.queue}? Running tasks go on.`)) +
      (q.counts.failed > 0 ? ` ${k.bulk('Retry failed', k.path('queues', q.queue, 'retry-failed'), 'Retry')}` : '')
    const rows = table(
      ['Queue', ...STATUSES.map((s) => LABEL[s]!), 'Oldest queued', ...(on ? [''] : [])],
      o.queues.map((q) => [
        `${esc(q.queue)}${q.paused ? ' <span class="badge paused">paused</span>' : ''}`,
        ...STATUSES.map((s) => `${o.estimated.includes(s) ? '~' : ''}${esc(q.counts[s])}`),
        q.oldest_queued_age_seconds === null ? '—' : esc(duration(q.oldest_queued_age_seconds * 1000)),
        ...(on ? [acts(q)] : []),
      ]),
      'No tasks yet.',
    )
    const ages = Object.entries(AGES)
      .map(([v, text]) => `<option value="${v}"${v === purge.olderThan ? ' selected' : ''}>${text}</option>`)
      .join('')
    const purgeForm = `<p class="bulk">Purge completed tasks older than <select id="purge-age">${ages}</select>
      ${k.bulk('Purge', purgePath(), 'Delete')}</p>`
    return `<section id="queues"><h2>Queues</h2>${rows}${on ? purgeForm : ''}</section>`
  }

  async function workers(o: Overview): Promise<string> {
    const rows = table(
      ['Worker', 'Queues', 'Running', 'Concurrency', 'Started', 'Last heartbeat'],
      o.workers.map((w) => [
        esc(w.name),
        esc(w.queues.join(', ')),
        esc(w.running),
        esc(w.concurrency),
        when(w.started),
        when(w.last_heartbeat),
      ]),
      'No live workers.',
    )
    return `<section id="workers"><h2>Workers</h2>${rows}</section>`
  }

  async function schedules(o: Overview): Promise<string> {
    const rows =
      o.schedules === null
        ? '<p class="empty">No schedules: they are defined in sq.config.* (docs/schedules.md).</p>'
        : table(
            ['Name', 'Cron', 'Task', 'Args', 'Queue', 'Last run', 'Last task', 'Next run'],
            o.schedules.map((s) => [
              esc(s.name),
              `<span class="mono">${esc(s.cron)}</span> ${esc(s.timezone ?? 'UTC')}`,
              esc(s.task),
              `<span class="mono line">${esc(k.jsonText(s.args))}</span>`,
              esc(s.queue),
              when(s.last_run),
              s.last_task_id ? k.taskLink(s.last_task_id) : '—',
              when(s.next_run),
            ]),
            'No schedules.',
          )
    return `<section id="schedules"><h2>Schedules</h2>${rows}</section>`
  }

  return { overview, tasks, queues, workers, schedules }
}

export type Views = ReturnType<typeof clientViews>

/** One task's page, `#/task/ID` (its own source too): its record, and its output live from its SSE stream. */
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
