import assert from 'node:assert/strict'
import { INITIAL, reduce, type Action, type KeyPress, type TopState, type View } from '../../ui/top/keys.js'
import { paneTextRows } from '../../ui/top/layout.js'
import type { Status } from '../../src/types.js'

/** `sq top`'s keys as a pure reducer: each key's meaning, without Ink or a terminal. */

const A = 'aaaaaaaa-0000-4000-8000-000000000001'
const B = 'bbbbbbbb-0000-4000-8000-000000000002'
const F = 'ffffffff-0000-4000-8000-000000000003'
const STATUS: Record<string, Status> = { [A]: 'progress', [B]: 'progress', [F]: 'failed' }

function view(o: Partial<View> = {}): View {
  return {
    order: [A, B, F],
    lines: 100,
    textRows: 10,
    status: (id) => STATUS[id] ?? null,
    task: () => 'jobs#x',
    now: 1000,
    ...o,
  }
}
const key = (input: string, more: Omit<KeyPress, 'input'> = {}, v = view()): Action => ({
  type: 'key',
  key: { input, ...more },
  view: v,
})
const run = (state: TopState, ...actions: Action[]) => actions.reduce(reduce, state)
const selected = (id: string | null): TopState => ({ ...INITIAL, selectedId: id })

describe('sq top keys (reducer)', () => {
  it('selects the first running task at start, then keeps the selection', () => {
    const s = run(INITIAL, { type: 'snapshot', order: [A, B], filter: '', paneId: A })
    assert.equal(s.selectedId, A)
    assert.equal(run(s, { type: 'snapshot', order: [B], filter: '', paneId: A }).selectedId, A, 'kept when it ends')
  })

  it('↑/↓ and j/k move through running tasks then the lower list, stopping at the ends', () => {
    let s = run(selected(A), key('j'))
    assert.equal(s.selectedId, B)
    s = run(s, key('', { downArrow: true }), key('j'))
    assert.equal(s.selectedId, F, 'stops at the last')
    s = run(s, key('k'), key('', { upArrow: true }), key('k'))
    assert.equal(s.selectedId, A, 'stops at the first')
  })

  it('after the selected task left the lists, ↓ takes the one in its place and ↑ the one before', () => {
    const s = run(selected(A), key('j')) // B, at index 1
    const gone = view({ order: [A, F] })
    assert.equal(run(s, key('j', {}, gone)).selectedId, F)
    assert.equal(run(s, key('k', {}, gone)).selectedId, A)
  })

  it('Enter toggles the pane, l the stream, Tab and t cycle the lower list', () => {
    const s = run(selected(A), key('', { return: true }))
    assert.equal(s.paneOpen, false)
    assert.equal(run(s, key('', { return: true })).paneOpen, true)
    assert.equal(run(s, key('l')).stream, 'log')
    assert.equal(run(s, key('l'), key('l')).stream, 'output')
    assert.deepEqual(
      [1, 2, 3].map((n) => run(s, ...Array.from({ length: n }, () => key('', { tab: true }))).list),
      ['queued', 'completed', 'failed'],
    )
    assert.equal(run(s, key('t')).list, 'queued')
  })

  it('g goes to the first line, G follows the end, PgUp/PgDn page; bounded by the rows of text', () => {
    const s = run(selected(A), key('g'))
    assert.equal(s.scroll, 90, '100 lines in 10 rows: the first line is 90 up')
    assert.equal(run(s, key('G')).scroll, 0)
    assert.equal(run(selected(A), key('', { pageUp: true })).scroll, 9)
    assert.equal(run(selected(A), key('', { pageUp: true }), key('', { pageDown: true })).scroll, 0)
    assert.equal(
      run(selected(A), key('', { home: true }), key('', { pageUp: true })).scroll,
      90,
      'never past the first line',
    )
  })

  it('with a progress bar the pane has a row less of text, and g still reaches the first line', () => {
    // A pane of 8 rows: 7 of text under the bar. g must scroll 100 - 7 = 93 lines up, not 100 - 8.
    const rows = paneTextRows(8, true)
    assert.equal(rows, 7)
    assert.equal(run(selected(A), key('g', {}, view({ textRows: rows }))).scroll, 93)
    assert.equal(paneTextRows(5, true), 5, 'no bar line in a pane too small for it')
  })

  it('keeps the same lines in view while scrolled up as the output grows', () => {
    let s = run(selected(A), { type: 'lines', id: A, count: 100 }, key('', { pageUp: true }))
    assert.equal(s.scroll, 9)
    s = run(s, { type: 'lines', id: A, count: 104 })
    assert.equal(s.scroll, 13)
    const following = run(selected(A), { type: 'lines', id: A, count: 100 }, { type: 'lines', id: A, count: 104 })
    assert.equal(following.scroll, 0, 'at the end it keeps following')
  })

  it('/ edits a filter draft (control characters dropped), Enter applies it, Esc clears it', () => {
    let s = run(selected(A), key('/'), key('c'), key('o'), key('x'), key('', { backspace: true }), key('\x07'))
    assert.deepEqual(s.mode, { kind: 'filter', draft: 'co' })
    s = run(s, key('', { return: true }))
    assert.equal(s.filter, 'co')
    assert.deepEqual(s.mode, { kind: 'normal' })
    assert.equal(run(s, key('', { escape: true })).filter, '')
    assert.equal(run(s, key('/'), key('', { escape: true })).filter, '')
  })

  it('a new filter moves a selection it hides to the first task that matches, once its snapshot comes', () => {
    let s = run(selected(F), key('/'), key('x'), key('', { return: true }))
    assert.equal(s.selectedId, F, 'nothing moves before the filtered snapshot')
    s = run(s, { type: 'snapshot', order: [A, B, F], filter: '', paneId: F })
    assert.equal(s.selectedId, F, 'a snapshot read with the old filter changes nothing')
    s = run(s, { type: 'snapshot', order: [B], filter: 'x', paneId: F })
    assert.equal(s.selectedId, B)
    s = run(s, key('j', {}, view({ order: [A, B] })), { type: 'snapshot', order: [A, B], filter: 'x', paneId: B })
    assert.equal(s.selectedId, B, 'only once: later snapshots keep the selection')
    const none = run(selected(F), key('/'), key('z'), key('', { return: true }), {
      type: 'snapshot',
      order: [],
      filter: 'z',
      paneId: null,
    })
    assert.equal(none.selectedId, null, 'nothing matches: nothing selected')
    const kept = run(selected(A), key('/'), key('a'), key('', { return: true }), {
      type: 'snapshot',
      order: [A],
      filter: 'a',
      paneId: A,
    })
    assert.equal(kept.selectedId, A, 'a selection that still matches stays')
  })

  it('c asks first and cancels only on y; only queued or running tasks', () => {
    let s = run(selected(A), key('c'))
    assert.deepEqual(s.mode, { kind: 'confirm', id: A, task: 'jobs#x' })
    assert.deepEqual(run(s, key('y')).effects, [{ kind: 'cancel', id: A }])
    s = run(s, key('n'))
    assert.deepEqual(s.effects, [])
    assert.equal(s.message?.text, 'not cancelled')
    assert.match(
      run(selected(F), key('c')).message!.text,
      /only queued or running tasks can be cancelled; this one is failed/,
    )
    assert.match(run(selected(null), key('c')).message!.text, /select a task to cancel first/)
  })

  it('r requeues ended tasks only; q and Ctrl-C quit; effects are taken once', () => {
    assert.deepEqual(run(selected(F), key('r')).effects, [{ kind: 'requeue', id: F }])
    assert.match(
      run(selected(A), key('r')).message!.text,
      /only failed, cancelled or completed tasks can be requeued; this one is progress/,
    )
    assert.deepEqual(run(selected(A), key('q')).effects, [{ kind: 'quit' }])
    assert.deepEqual(run(selected(A), key('c', { ctrl: true })).effects, [{ kind: 'quit' }])
    assert.deepEqual(run(selected(A), key('q'), { type: 'effects-taken' }).effects, [])
  })

  it('? opens the help and any key closes it; a message expires only if it is still the one shown', () => {
    const help = run(selected(A), key('?'))
    assert.deepEqual(help.mode, { kind: 'help' })
    assert.deepEqual(run(help, key('j')), { ...help, mode: { kind: 'normal' } }, 'the closing key does nothing else')
    const said = run(selected(null), key('c'))
    assert.equal(run(said, { type: 'expire', at: said.message!.at + 1 }).message, said.message)
    assert.equal(run(said, { type: 'expire', at: said.message!.at }).message, null)
  })
})
