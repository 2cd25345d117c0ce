import type { Key } from 'ink'
import { LISTED_STATUSES, type ListedStatus, type Stream } from '../../src/monitor.js'
import { isTerminal, type Status } from '../../src/task.js'
import { clampScroll } from './layout.js'

// What `sq top` remembers between frames, and how keys and snapshots change it: a pure reducer (each key is
// unit-tested), which useReducer applies on the latest state however fast keys come — no refs mirroring state.

export type Mode =
  | { kind: 'normal' }
  | { kind: 'help' }
  | { kind: 'confirm'; id: string; task: string }
  | { kind: 'filter'; draft: string }

/** What the container does for the reducer, which only asks: the database calls and quitting. */
export type Effect = { kind: 'cancel'; id: string } | { kind: 'requeue'; id: string } | { kind: 'quit' }

/** A footer line; `at`: Date.now() when shown, the container expires it after a few seconds. */
export type Message = { text: string; error?: boolean; at: number }

export const INITIAL = {
  mode: { kind: 'normal' } as Mode,
  selectedId: null as string | null,
  /** Where the selection was in the lists, so ↑/↓ continue from there after it left them. */
  lastIndex: 0,
  paneOpen: true,
  stream: 'output' as Stream,
  /** Pane lines scrolled up from the bottom; 0 follows the output. */
  scroll: 0,
  /** The pane lines counted at the last frame, to keep the view still while scrolled up. */
  seen: { id: null as string | null, count: 0 },
  filter: '',
  /** What the lower list shows (Tab cycles). */
  list: 'failed' as ListedStatus,
  /** The filter changed: the next snapshot read with it moves a selection that no longer matches. */
  reselect: false,
  message: null as Message | null,
  /** Asked of the container, in order; it takes them (`effects-taken`) and carries them out. */
  effects: [] as Effect[],
}
export type TopState = typeof INITIAL

/** A key as Ink reports it, one character at a time. */
export type KeyPress = Partial<Key> & { input: string }

/** What is on screen when a key comes: the lists' order, the pane's size, what each task is. */
export interface View {
  /** Selectable ids, top to bottom: running tasks, then the lower list. */
  order: string[]
  /** Lines of the pane's text, and how many of them fit (see paneTextRows). */
  lines: number
  textRows: number
  /** A task's status and reference as last read, or null when it is in no list and not in the pane. */
  status(id: string): Status | null
  task(id: string): string
  now: number
}

export type Action =
  | { type: 'key'; key: KeyPress; view: View }
  /** A snapshot arrived: `order` as it lists tasks, read with `filter`; `paneId` the task its pane shows. */
  | { type: 'snapshot'; order: string[]; filter: string; paneId: string | null }
  /** The pane now has `count` lines for task `id`. */
  | { type: 'lines'; id: string | null; count: number }
  | { type: 'message'; message: Message }
  | { type: 'expire'; at: number }
  | { type: 'effects-taken' }

export function reduce(state: TopState, action: Action): TopState {
  switch (action.type) {
    case 'key':
      return onKey(state, action.key, action.view)
    case 'snapshot':
      return onSnapshot(state, action)
    case 'lines': {
      // While scrolled up, keep the same lines in view as the output grows below them.
      const grown = action.id === state.seen.id ? action.count - state.seen.count : 0
      const scroll = grown > 0 && state.scroll > 0 ? state.scroll + grown : state.scroll
      return { ...state, scroll, seen: { id: action.id, count: action.count } }
    }
    case 'message':
      return { ...state, message: action.message }
    case 'expire':
      return state.message?.at === action.at ? { ...state, message: null } : state
    case 'effects-taken':
      return state.effects.length === 0 ? state : { ...state, effects: [] }
  }
}

function onSnapshot(state: TopState, a: { order: string[]; filter: string; paneId: string | null }): TopState {
  // The first running task is selected at start, then kept: it stays selected when it ends.
  if (state.selectedId === null && !state.reselect) return a.paneId === null ? state : select(state, a.paneId)
  if (!state.reselect || a.filter !== state.filter) return state
  // A new filter hid the selected task: select the first that matches (or none) for the pane.
  const keep = state.selectedId !== null && a.order.includes(state.selectedId)
  return keep ? { ...state, reselect: false } : { ...select(state, a.order[0] ?? null), reselect: false, lastIndex: 0 }
}

function select(state: TopState, id: string | null): TopState {
  return { ...state, selectedId: id, scroll: 0 }
}

const say = (state: TopState, text: string, now: number): TopState => ({ ...state, message: { text, at: now } })

function onKey(state: TopState, key: KeyPress, view: View): TopState {
  const { mode } = state
  const input = key.input
  if (key.ctrl && input === 'c') return ask(state, { kind: 'quit' })
  if (mode.kind === 'help') return { ...state, mode: { kind: 'normal' } }
  if (mode.kind === 'confirm') {
    const normal = { ...state, mode: { kind: 'normal' } as Mode }
    return input === 'y' || input === 'Y'
      ? ask(normal, { kind: 'cancel', id: mode.id })
      : say(normal, 'not cancelled', view.now)
  }
  if (mode.kind === 'filter') return onFilterKey(state, mode.draft, key)
  const scrollTo = (scroll: number) => ({ ...state, scroll: clampScroll(scroll, view.lines, view.textRows) })
  const page = Math.max(1, view.textRows - 1)
  if (input === 'q') return ask(state, { kind: 'quit' })
  if (key.upArrow || input === 'k') return move(state, view.order, -1)
  if (key.downArrow || input === 'j') return move(state, view.order, 1)
  if (key.return) return { ...state, paneOpen: !state.paneOpen }
  if (key.tab || input === 't') {
    const list = LISTED_STATUSES[(LISTED_STATUSES.indexOf(state.list) + 1) % LISTED_STATUSES.length]!
    return { ...state, list }
  }
  if (input === 'l') return { ...state, stream: state.stream === 'output' ? 'log' : 'output', scroll: 0 }
  if (key.pageUp) return scrollTo(state.scroll + page)
  if (key.pageDown) return scrollTo(state.scroll - page)
  if (key.home || input === 'g') return scrollTo(view.lines)
  if (key.end || input === 'G') return scrollTo(0)
  if (input === '?') return { ...state, mode: { kind: 'help' } }
  if (input === '/') return { ...state, mode: { kind: 'filter', draft: state.filter } }
  if (key.escape && state.filter) return { ...state, filter: '', reselect: true }
  if (input === 'c' || input === 'r') return act(state, input, view)
  return state
}

function onFilterKey(state: TopState, draft: string, key: KeyPress): TopState {
  const normal: Mode = { kind: 'normal' }
  if (key.return) {
    const filter = draft.trim()
    return { ...state, mode: normal, filter, reselect: state.reselect || filter !== state.filter }
  }
  if (key.escape) return { ...state, mode: normal, filter: '', reselect: state.reselect || state.filter !== '' }
  if (key.backspace || key.delete) return { ...state, mode: { kind: 'filter', draft: draft.slice(0, -1) } }
  if (key.input && !key.ctrl && !key.meta)
    return { ...state, mode: { kind: 'filter', draft: draft + key.input.replace(/[\u0000-\u001f\u007f]/g, '') } }
  return state
}

function move(state: TopState, order: string[], delta: number): TopState {
  if (order.length === 0) return state
  const current = state.selectedId === null ? -1 : order.indexOf(state.selectedId)
  const lastIndex = current >= 0 ? current : state.lastIndex
  // From a task that left the lists, ↓ takes the one now in its place and ↑ the one before it.
  const from = current >= 0 ? current : Math.min(lastIndex, order.length) - (delta > 0 ? 1 : 0)
  const next = Math.min(order.length - 1, Math.max(0, from + delta))
  return { ...select(state, order[next]!), lastIndex: next }
}

function act(state: TopState, input: 'c' | 'r', view: View): TopState {
  const id = state.selectedId
  if (id === null) return say(state, `select a task to ${input === 'c' ? 'cancel' : 'requeue'} first`, view.now)
  const status = view.status(id)
  if (input === 'c') {
    return status !== null && !isTerminal(status)
      ? { ...state, mode: { kind: 'confirm', id, task: view.task(id) } }
      : say(state, `only queued or running tasks can be cancelled; this one is ${status ?? 'gone'}`, view.now)
  }
  return status !== null && isTerminal(status)
    ? ask(state, { kind: 'requeue', id })
    : say(state, `only failed, cancelled or completed tasks can be requeued; this one is ${status ?? 'gone'}`, view.now)
}

const ask = (state: TopState, effect: Effect): TopState => ({ ...state, effects: [...state.effects, effect] })
