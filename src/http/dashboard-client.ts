/// <reference lib="dom" />
import type { ActionAnswer, ApiError, BulkAnswer, Overview } from './api-types.js'
import type { Status } from '../types.js'
import type { TaskView, Views } from './dashboard-client-views.js'

/**
 * The dashboard's browser script. Each function of dashboard-client*.ts is served as its own source, so it
 * may use browser globals and its parameters, nothing of its module; typed from api-types.ts, no framework.
 */

/** The helpers every view shares; the statuses and their labels are given by the page. */
export function clientKit(STATUSES: readonly Status[], LABEL: Record<string, string>) {
  // Every value from the server goes through esc, numbers too: SQLite keeps text in an integer column.
  const esc = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
  /** The database's clock minus the browser's, from the latest overview: "3 min ago" is by the database. */
  let skewMs = 0
  const agoText = (iso: string) => {
    const s = Math.round((Date.parse(iso) - Date.now() - skewMs) / 1000)
    const a = Math.abs(s)
    if (a < 5) return 'just now'
    const [per, unit] = a < 90 ? [1, 's'] : a < 5400 ? [60, 'min'] : a < 172800 ? [3600, 'h'] : [86400, 'd']
    const span = `${Math.round(a / per)} ${unit}`
    return s < 0 ? `${span} ago` : `in ${span}`
  }

  const kit = {
    STATUSES,
    LABEL,
    esc,
    token: document.querySelector<HTMLMetaElement>('meta[name="sq-token"]')?.content ?? null,
    setClock: (at: string) => (skewMs = Date.parse(at) - Date.now()),
    /** Redraws the current view after `ms`; dashboardClient puts its own here. */
    refresh: (_ms: number): void => {},
    /** Relative time ("3 min ago", "in 2 h"), the absolute one on hover. */
    when: (iso: string | null) =>
      iso
        ? `<time datetime="${esc(iso)}" title="${esc(new Date(iso).toLocaleString())}">${esc(agoText(iso))}</time>`
        : '—',
    // A malformed json field arrives as its stored text (see storage/task-row.ts) and is shown marked.
    jsonText: (v: unknown) => (typeof v === 'string' ? `(malformed) ${v}` : JSON.stringify(v)),
    taskLink: (id: string) => `<a href="#/task/${esc(id)}" class="mono">${esc(id.slice(0, 8))}</a>`,
    badge: (s: string) => `<span class="badge ${esc(s)}">${esc(LABEL[s] ?? s)}</span>`,
    duration: (ms: number | null | undefined) => {
      if (ms === null || ms === undefined) return '—'
      const s = ms / 1000
      if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`
      if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`
      return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    },
    /** A button that POSTs to `path` once `question` is confirmed (dashboardClient listens). */
    action: (label: string, path: string, question: string, id = '') =>
      `<button${id ? ` id="${id}"` : ''} data-post="${esc(path)}" data-confirm="${esc(question)}">${esc(label)}</button>`,
    /** A bulk action: its dry run counts the tasks, and the confirmation names the count. */
    bulk: (label: string, path: string, verb: string) =>
      `<button data-bulk="${esc(path)}" data-confirm="${esc(verb)}">${esc(label)}</button>`,
    path: (kind: string, name: string, verb: string) => `/api/${kind}/${encodeURIComponent(name)}/${verb}`,
    /** Cancel for a waiting or running task, else Requeue: a completed one's (it runs again) on its page only. */
    taskAction: (t: { id: string; task: string; status: string }, onPage = false) => {
      const live = t.status === 'queued' || t.status === 'progress'
      if (!live && !onPage && t.status !== 'failed' && t.status !== 'cancelled') return ''
      const [verb, label] = live ? ['cancel', 'Cancel'] : ['requeue', 'Requeue']
      const question = `${label} ${t.task} ${t.id.slice(0, 8)}?${live || !onPage ? '' : ' It runs again.'}`
      return kit.action(label, kit.path('tasks', t.id, verb), question, onPage ? verb : '')
    },
    /** Each count, `~` first where it is an estimate. */
    countsCards: (o: Pick<Overview, 'counts' | 'estimated'>) =>
      STATUSES.map(
        (s) =>
          `<a class="card ${s}" data-status="${s}" href="#/tasks/${s}"><div class="n">${o.estimated.includes(s) ? '~' : ''}${esc(o.counts[s] ?? 0)}</div><div>${LABEL[s]}</div></a>`,
      ).join(''),
    table: (headers: string[], rows: string[][], empty: string, id = '') => {
      if (rows.length === 0) return `<p class="empty">${esc(empty)}</p>`
      const head = headers.map((h) => `<th>${esc(h)}</th>`).join('')
      const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')
      return `<div class="scroll"><table${id ? ` id="${id}"` : ''}><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`
    },
    async api<T>(path: string, method = 'GET'): Promise<T> {
      const headers: Record<string, string> =
        method === 'GET' ? { accept: 'application/json' } : { 'x-sq-token': kit.token ?? '' }
      const res = await fetch(path, { method, headers })
      const body = (await res.json()) as T | ApiError
      if (!res.ok) throw new Error((body as ApiError).error ?? `HTTP ${res.status}`)
      return body as T
    },
    say(text: string, bad = false): void {
      const flash = document.getElementById('flash')!
      flash.textContent = text
      flash.className = bad ? 'bad' : 'ok'
      flash.hidden = false
      setTimeout(() => (flash.hidden = true), 4000)
    },
  }
  return kit
}

export type Kit = ReturnType<typeof clientKit>

/** Routing by location hash (`#/overview`, `#/tasks[/STATUS]`, …, `#/task/ID`), refresh and actions. */
export function dashboardClient(k: Kit, views: Views, task: TaskView): void {
  const main = document.getElementById('main')!
  const offline = document.getElementById('offline')!
  let timer: ReturnType<typeof setTimeout> | undefined
  let view = ''

  // One listener for every action button, each confirmed: data-post names the endpoint; data-bulk a bulk
  // one, whose dry run counts the tasks first so that the question says how many.
  document.addEventListener('click', async (ev) => {
    const button = (ev.target as HTMLElement).closest<HTMLButtonElement>('button[data-post], button[data-bulk]')
    if (!button) return
    const { post, bulk, confirm: question } = button.dataset
    try {
      const dry = bulk ? await k.api<BulkAnswer>(`${bulk}${bulk.includes('?') ? '&' : '?'}dry_run=1`, 'POST') : null
      if (dry?.count === 0) return k.say(`Nothing to do: ${dry.message}`)
      if (!confirm(dry ? `${question} ${dry.message}?` : question!)) return
      k.say((await k.api<ActionAnswer | BulkAnswer>((post ?? bulk)!, 'POST')).message)
    } catch (e) {
      k.say((e as Error).message, true)
    }
    await render()
  })

  /** Replaces the view unless nothing changed (a hover's tooltip survives), keeping the focused input's. */
  function draw(html: string): void {
    const focused = document.activeElement
    // An open drop-down would close under a redraw.
    if (html === main.dataset.drawn || focused?.tagName === 'SELECT') return
    main.innerHTML = html
    main.dataset.drawn = html
    const again = focused?.id ? document.getElementById(focused.id) : null
    if (again instanceof HTMLInputElement) {
      again.focus()
      again.setSelectionRange(again.value.length, again.value.length)
    }
  }

  function schedule(ms: number): void {
    clearTimeout(timer)
    timer = setTimeout(() => void render(), ms)
  }
  k.refresh = schedule

  async function render(): Promise<void> {
    clearTimeout(timer)
    const hash = location.hash.length > 2 ? location.hash : '#/overview'
    const [, name = '', arg = ''] = /^#\/([^/]*)\/?(.*)$/.exec(hash) ?? []
    const tab = name === 'task' ? 'tasks' : Object.hasOwn(views, name) ? (name as keyof Views) : 'overview'
    if (hash !== view) {
      task.stop()
      view = hash
      main.innerHTML = '<p class="empty">Loading…</p>'
      main.dataset.drawn = ''
      for (const a of Array.from(document.querySelectorAll<HTMLElement>('#nav a')))
        a.classList.toggle('on', a.dataset.tab === tab)
    }
    try {
      const o = await k.api<Overview>('/api/overview')
      k.setClock(o.at)
      if (name === 'task') await task.render(decodeURIComponent(arg), o, () => view === hash, render)
      else {
        const html = await views[tab](o, arg || undefined)
        if (view === hash) draw(html)
      }
      offline.hidden = true
    } catch (e) {
      if (name === 'task' && !document.getElementById('details'))
        main.innerHTML = `<p class="bad">${k.esc((e as Error).message)}</p>`
      offline.hidden = false
    }
    // The task view refreshes on its stream's events; the others poll.
    schedule(name === 'task' ? 5000 : 1000)
  }

  window.addEventListener('hashchange', () => void render())
  void render()
}
