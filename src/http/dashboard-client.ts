/// <reference lib="dom" />
import type { ActionAnswer, BulkAnswer, Overview } from './api-types.js'
import type { Kit } from './dashboard-client-kit.js'
import type { TaskView, Views } from './dashboard-client-views.js'

/**
 * The dashboard's browser script: routing, refresh and actions. It and the parts it is given (clientKit,
 * clientViews, clientTask) are served as their own source (dashboard-page.ts), so each may use browser
 * globals and its parameters, nothing of its module. Written in TypeScript so tsc checks it, typed from
 * api-types.ts; no framework, no network access beyond this server.
 *
 * Views, by location hash: `#/overview` (and `#/`), `#/tasks[/STATUS]`, `#/queues`, `#/workers`,
 * `#/schedules`, and `#/task/ID` one task with its output live (SSE).
 */
export function dashboardClient(k: Kit, views: Views, task: TaskView): void {
  const main = document.getElementById('main')!
  const offline = document.getElementById('offline')!
  let timer: ReturnType<typeof setTimeout> | undefined
  let view = ''

  async function act(path: string): Promise<void> {
    try {
      k.say((await k.api<ActionAnswer | BulkAnswer>(path, 'POST')).message)
    } catch (e) {
      k.say((e as Error).message, true)
    }
    await render()
  }

  // One listener for every action button, each confirmed: data-post names the endpoint; data-bulk a bulk
  // one, whose dry run counts the tasks first so that the question says how many.
  document.addEventListener('click', async (ev) => {
    const button = (ev.target as HTMLElement).closest<HTMLButtonElement>('button[data-post], button[data-bulk]')
    if (!button) return
    const { post: path, bulk, confirm: question } = button.dataset
    if (path) {
      if (confirm(question!)) await act(path)
      return
    }
    try {
      const dry = await k.api<BulkAnswer>(`${bulk}${bulk!.includes('?') ? '&' : '?'}dry_run=1`, 'POST')
      if (dry.count === 0) return k.say(`Nothing to do: ${dry.message}`)
      if (confirm(`${question} ${dry.message}?`)) await act(bulk!)
    } catch (e) {
      k.say((e as Error).message, true)
    }
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
