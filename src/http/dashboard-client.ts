/// <reference lib="dom" />

/**
 * The dashboard's browser script. It is served as the source of this function (dashboard-page.ts), so
 * it must be self-contained: it may use browser globals and its own locals, nothing of this module.
 * Written in TypeScript so tsc checks it; no framework, no network access beyond this server.
 *
 * Views, by location hash: `#/` the overview, `#/task/ID` one task with its output live (SSE).
 */
export function dashboardClient(): void {
  type Counts = Record<string, number>
  const STATUSES = ['queued', 'progress', 'completed', 'failed', 'cancelled']
  const LABEL: Record<string, string> = {
    queued: 'Queued',
    progress: 'In progress',
    completed: 'Completed',
    failed: 'Failed',
    cancelled: 'Cancelled',
  }
  const token = document.querySelector<HTMLMetaElement>('meta[name="sq-token"]')?.content ?? null
  const main = document.getElementById('main')!
  const flash = document.getElementById('flash')!

  // Every value from the server goes through esc, numbers too: SQLite keeps text in an integer column.
  const esc = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
  // A malformed json field arrives as its stored text (see storage/task-row.ts) and is shown marked.
  const jsonText = (v: unknown) => (typeof v === 'string' ? `(malformed) ${v}` : JSON.stringify(v))
  const progressText = (p: any) =>
    typeof p === 'string' ? `(malformed) ${p}` : `${p.current ?? '?'}/${p.total ?? '?'} ${p.message ?? ''}`
  const postPath = (kind: string, id: string, verb: string) =>
    esc(`/api/${kind}/${encodeURIComponent(String(id))}/${verb}`)
  const shortId = (id: string) => id.slice(0, 8)
  const taskLink = (id: string) => `<a href="#/task/${esc(id)}" class="mono">${esc(shortId(id))}</a>`
  const badge = (s: string) => `<span class="badge ${esc(s)}">${esc(LABEL[s] ?? s)}</span>`
  const duration = (ms: number | null | undefined) => {
    if (ms === null || ms === undefined) return '—'
    const s = ms / 1000
    if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`
    if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
  }
  const time = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—')

  async function api<T>(path: string): Promise<T> {
    const res = await fetch(path, { headers: { accept: 'application/json' } })
    const body = await res.json()
    if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`)
    return body as T
  }

  function say(text: string, bad = false): void {
    flash.textContent = text
    flash.className = bad ? 'bad' : 'ok'
    flash.hidden = false
    setTimeout(() => (flash.hidden = true), 4000)
  }

  async function post(path: string): Promise<void> {
    try {
      const res = await fetch(path, { method: 'POST', headers: { 'x-sq-token': token ?? '' } })
      const body = await res.json()
      say(body.message ?? body.error ?? `HTTP ${res.status}`, !res.ok)
    } catch (e) {
      say(String(e), true)
    }
    await render()
  }
  // One listener for every action button: data-post names the endpoint.
  document.addEventListener('click', (ev) => {
    const button = (ev.target as HTMLElement).closest<HTMLButtonElement>('button[data-post]')
    if (button) void post(button.dataset.post!)
  })

  let timer: ReturnType<typeof setTimeout> | undefined
  let source: EventSource | undefined
  let view = ''
  const list = { status: 'queued', q: '', page: 1 }

  // ---------- overview ----------

  function chart(buckets: Array<{ at: string; completed: number; failed: number }>, bucketSeconds: number): string {
    const w = 600
    const h = 100
    const max = Math.max(1, ...buckets.map((b) => b.completed + b.failed))
    const bw = w / buckets.length
    const bars = buckets
      .map((b, i) => {
        const hc = (b.completed / max) * (h - 4)
        const hf = (b.failed / max) * (h - 4)
        const title = `<title>${esc(`${new Date(b.at).toLocaleTimeString()}: ${b.completed} completed, ${b.failed} failed`)}</title>`
        return `<g>${title}<rect x="${i * bw + 1}" y="${h - hc}" width="${bw - 2}" height="${hc}" class="c"/><rect x="${i * bw + 1}" y="${h - hc - hf}" width="${bw - 2}" height="${hf}" class="f"/></g>`
      })
      .join('')
    const span = (buckets.length * bucketSeconds) / 60
    return `<svg id="throughput-chart" viewBox="0 0 ${w} ${h}" preserveAspectRatio="none" role="img" aria-label="throughput">${bars}</svg>
      <div class="axis"><span>${span} min ago</span><span>peak ${max} per ${bucketSeconds / 60} min</span><span>now</span></div>`
  }

  function countsCards(counts: Counts): string {
    return STATUSES.map(
      (s) =>
        `<div class="card ${s}" data-status="${s}"><div class="n">${esc(counts[s] ?? 0)}</div><div>${LABEL[s]}</div></div>`,
    ).join('')
  }

  function table(headers: string[], rows: string[][], empty: string): string {
    if (rows.length === 0) return `<p class="empty">${esc(empty)}</p>`
    return `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
      .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
      .join('')}</tbody></table>`
  }

  async function renderOverview(): Promise<void> {
    const params = new URLSearchParams({
      status: list.status === 'all' ? '' : list.status,
      q: list.q,
      page: String(list.page),
      limit: '20',
    })
    const [o, t, page] = await Promise.all([
      api<any>('/api/overview'),
      api<any>('/api/throughput'),
      api<any>(`/api/tasks?${params}`),
    ])
    if (view !== '#/') return
    const now = Date.parse(o.at)
    const pause = (q: any) =>
      o.actions.pause
        ? `<button data-post="${postPath('queues', q.queue, q.paused ? 'resume' : 'pause')}">${q.paused ? 'Resume' : 'Pause'}</button>`
        : ''
    const queues = table(
      ['Queue', ...STATUSES.map((s) => LABEL[s]!), 'Oldest queued', ...(o.actions.pause ? [''] : [])],
      o.queues.map((q: any) => [
        `${esc(q.queue)}${q.paused ? ' <span class="badge paused">paused</span>' : ''}`,
        ...STATUSES.map((s) => esc(q.counts[s])),
        q.oldest_queued_age_seconds === null ? '—' : esc(duration(q.oldest_queued_age_seconds * 1000)),
        ...(o.actions.pause ? [pause(q)] : []),
      ]),
      'No tasks yet.',
    )
    const running = table(
      ['Task', 'Id', 'Worker', 'Elapsed', 'Progress', 'Last output'],
      o.running.map((r: any) => [
        esc(r.task),
        taskLink(r.id),
        esc(r.worker ?? '—'),
        esc(duration(r.started ? now - Date.parse(r.started) : null)),
        r.progress ? esc(progressText(r.progress)) : '',
        `<span class="mono line">${esc(r.last_line)}</span>`,
      ]),
      'Nothing is running.',
    )
    const workers = table(
      ['Worker', 'Queues', 'Running', 'Concurrency', 'Started', 'Last heartbeat'],
      o.workers.map((w: any) => [
        esc(w.name),
        esc(w.queues.join(', ')),
        esc(w.running),
        esc(w.concurrency),
        esc(time(w.started)),
        esc(time(w.last_heartbeat)),
      ]),
      'No live workers.',
    )
    // Present only when sq.config.* defines schedules: rendered field by field, as `sq schedules --json`.
    const schedules =
      o.schedules === null
        ? ''
        : `<section id="schedules"><h2>Schedules</h2>${table(
            Object.keys(o.schedules[0] ?? {}),
            o.schedules.map((s: any) =>
              Object.values(s).map((v) => esc(typeof v === 'object' && v !== null ? JSON.stringify(v) : v)),
            ),
            'No schedules.',
          )}</section>`
    const tabs = [...STATUSES, 'all']
      .map(
        (s) =>
          `<button class="tab${s === list.status ? ' on' : ''}" data-tab="${s}">${esc(LABEL[s] ?? 'All')}</button>`,
      )
      .join('')
    const act = (x: any) => {
      if (!o.actions.enabled) return ''
      if (x.status === 'queued' || x.status === 'progress')
        return `<button data-post="${postPath('tasks', x.id, 'cancel')}">Cancel</button>`
      return `<button data-post="${postPath('tasks', x.id, 'requeue')}">Requeue</button>`
    }
    const rows = table(
      [
        'Task',
        'Id',
        'Status',
        'Queue',
        'Attempts',
        'Modified',
        'Duration',
        'Error',
        ...(o.actions.enabled ? [''] : []),
      ],
      page.tasks.map((x: any) => [
        esc(x.task),
        taskLink(x.id),
        badge(x.status),
        esc(x.queue),
        esc(`${x.attempts}/${x.max_attempts}`),
        esc(time(x.modified)),
        esc(duration(x.duration_ms)),
        `<span class="line">${esc((x.error_head ?? '').split('\n')[0])}</span>`,
        ...(o.actions.enabled ? [act(x)] : []),
      ]),
      list.q ? 'No task matches.' : 'No tasks.',
    )
    const focused = document.activeElement?.id === 'search'
    main.innerHTML = `
      <section><div id="counts" class="cards">${countsCards(o.counts)}</div></section>
      <section id="throughput"><h2>Throughput <small>completed / failed per ${t.bucket_seconds / 60} min, last hour</small></h2>${chart(t.buckets, t.bucket_seconds)}</section>
      <section id="queues"><h2>Queues</h2>${queues}</section>
      <section id="running"><h2>Running</h2>${running}</section>
      <section id="workers"><h2>Workers</h2>${workers}</section>
      ${schedules}
      <section id="tasks"><h2>Tasks</h2><div class="tabs">${tabs}</div>
        <input id="search" type="search" placeholder="Search id, task, args, error, output" value="${esc(list.q)}">
        ${rows}
        <div class="pager"><button id="prev" ${list.page <= 1 ? 'disabled' : ''}>‹ Newer</button>
        <span id="page">page ${list.page}</span><button id="next" ${page.more ? '' : 'disabled'}>Older ›</button></div>
      </section>`
    const search = document.getElementById('search') as HTMLInputElement
    if (focused) {
      search.focus()
      search.setSelectionRange(search.value.length, search.value.length)
    }
    search.addEventListener('input', () => {
      list.q = search.value
      list.page = 1
      schedule(250)
    })
    for (const b of Array.from(main.querySelectorAll<HTMLButtonElement>('button[data-tab]'))) {
      b.addEventListener('click', () => {
        list.status = b.dataset.tab!
        list.page = 1
        void render()
      })
    }
    document.getElementById('prev')!.addEventListener('click', () => {
      list.page = Math.max(1, list.page - 1)
      void render()
    })
    document.getElementById('next')!.addEventListener('click', () => {
      list.page += 1
      void render()
    })
  }

  // ---------- one task ----------

  async function renderTask(id: string): Promise<void> {
    const [t, o] = await Promise.all([api<any>(`/api/tasks/${encodeURIComponent(id)}`), api<any>('/api/overview')])
    if (view !== `#/task/${id}`) return
    const row = (k: string, v: string) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`
    const live = t.status === 'queued' || t.status === 'progress'
    const actions = !o.actions.enabled
      ? ''
      : live
        ? `<button id="cancel" data-post="${postPath('tasks', t.id, 'cancel')}">Cancel</button>`
        : `<button id="requeue" data-post="${postPath('tasks', t.id, 'requeue')}">Requeue</button>`
    const progress = t.progress ? progressText(t.progress) : ''
    const details = document.getElementById('details')
    const html = `<table class="record">
      ${row('Id', `<span class="mono">${esc(t.id)}</span>`)}${row('Status', `<span id="task-status">${badge(t.status)}</span>`)}
      ${row('Queue', esc(t.queue))}${row('Args', `<span class="mono">${esc(jsonText(t.args))}</span>`)}
      ${row('Attempts', esc(`${t.attempts} of ${t.max_attempts}`))}${row('Priority', esc(t.priority))}
      ${row('Created', esc(time(t.created)))}${row('Run at', esc(time(t.run_at)))}${row('Started', esc(time(t.started)))}
      ${row('Finished', esc(time(t.finished)))}${row('Duration', esc(duration(t.duration_ms)))}${row('Worker', esc(t.worker ?? '—'))}
      ${progress ? row('Progress', esc(progress)) : ''}${t.key ? row('Key', esc(t.key)) : ''}
    </table>
    ${runsTable(t.runs ?? [])}
    ${t.error ? `<h2>Error</h2><pre id="error">${esc(t.error)}</pre>` : ''}
    ${t.log ? `<details><summary>Log</summary><pre id="log">${esc(t.log)}</pre></details>` : ''}`
    if (details) {
      // Only the record is redrawn; the output pane keeps what the stream appended.
      details.innerHTML = html
      document.getElementById('task-actions')!.innerHTML = actions
      return
    }
    main.innerHTML = `<p><a href="#/">‹ Dashboard</a> · <a href="/task?task_id=${esc(t.id)}">plain view</a></p>
      <section><h1 class="mono">${esc(t.task)}</h1><div id="task-actions">${actions}</div><div id="details">${html}</div></section>
      <section><h2>Output <small id="stream-state"></small></h2><pre id="output"></pre></section>`
    follow(t.id)
  }

  /** The task's runs, oldest first, once there is more than the one the record above describes. */
  function runsTable(runs: Array<Record<string, unknown>>): string {
    if (runs.length < 2) return ''
    const cells = (r: Record<string, unknown>) =>
      [
        r.attempt,
        String(r.outcome ?? 'running').replace('_', ' '),
        r.worker ?? '—',
        time(r.started as string),
        time(r.finished as string),
        String(r.error ?? '').split('\n')[0],
      ]
        .map((v) => `<td>${esc(v)}</td>`)
        .join('')
    return `<h2>Runs</h2><table id="runs"><tr><th>Attempt</th><th>Outcome</th><th>Worker</th><th>Started</th><th>Finished</th><th>Error</th></tr>
      ${runs.map((r) => `<tr>${cells(r)}</tr>`).join('')}</table>`
  }

  function follow(id: string): void {
    source?.close()
    const out = document.getElementById('output')!
    const state = document.getElementById('stream-state')!
    const es = new EventSource(`/api/tasks/${encodeURIComponent(id)}/events`)
    source = es
    const data = (ev: Event) => JSON.parse((ev as MessageEvent).data)
    es.addEventListener('reset', (ev) => {
      const d = data(ev)
      out.textContent = d.clipped ? '[earlier output left out]\n' : ''
      state.textContent = `attempt ${d.attempt}`
    })
    es.addEventListener('output', (ev) => {
      const stick = out.scrollTop + out.clientHeight >= out.scrollHeight - 4
      out.textContent += data(ev).text
      if (stick) out.scrollTop = out.scrollHeight
    })
    es.addEventListener('state', () => void render())
    es.addEventListener('end', (ev) => {
      // The server closes the stream after `end`; without close() EventSource would reconnect.
      es.close()
      state.textContent = `ended: ${LABEL[data(ev).status] ?? data(ev).status}`
      void render()
    })
  }

  // ---------- routing and refresh ----------

  function schedule(ms: number): void {
    clearTimeout(timer)
    timer = setTimeout(() => void render(), ms)
  }

  async function render(): Promise<void> {
    clearTimeout(timer)
    const hash = location.hash || '#/'
    if (hash !== view) {
      source?.close()
      source = undefined
      view = hash
      main.innerHTML = '<p class="empty">Loading…</p>'
    }
    try {
      const m = /^#\/task\/(.+)$/.exec(hash)
      if (m) await renderTask(decodeURIComponent(m[1]!))
      else await renderOverview()
      document.getElementById('offline')!.hidden = true
    } catch (e) {
      if (/^#\/task\//.test(hash) && !document.getElementById('details'))
        main.innerHTML = `<p class="bad">${esc((e as Error).message)}</p>`
      document.getElementById('offline')!.hidden = false
    }
    // The task view refreshes on its stream's events; the overview polls.
    timer = setTimeout(() => void render(), hash.startsWith('#/task/') ? 5000 : 1000)
  }

  window.addEventListener('hashchange', () => void render())
  void render()
}
