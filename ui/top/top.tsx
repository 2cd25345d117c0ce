import { Box, render, useApp, useInput, useStdout, type Key } from 'ink'
import { useCallback, useEffect, useMemo, useReducer, useRef } from 'react'
import type { MonitorSource } from '../../src/monitor.js'
import { coerceError, oneLine } from '../../src/errors.js'
import { ConfirmDialog, FilterPrompt, Footer, Header, Help } from './chrome.js'
import { INITIAL, reduce, type Effect, type KeyPress, type View } from './keys.js'
import { computeLayout, paneLines, paneTextRows, SPARE_ROWS } from './layout.js'
import { OutputPane } from './output-pane.js'
import { RunningTable } from './running-table.js'
import { TaskList } from './task-list.js'
import { theme as makeTheme } from './theme.js'
import { useSnapshots } from './use-snapshots.js'
import { progressBar } from '../format.js'

export interface TopProps {
  source: MonitorSource
  /** The database, password hidden. */
  displayUrl: string
  /** The worker timeout in seconds (0: none), shown against elapsed times. */
  taskTimeout: number
  /** Milliseconds between refreshes; default 400. */
  intervalMs?: number
  color?: boolean
  /** A fixed size (tests). Default: the terminal's, following resizes. */
  size?: { columns: number; rows: number }
}

const MESSAGE_MS = 4000

/** The terminal's size, drawn again on every resize. */
function useTerminalSize(fixed?: { columns: number; rows: number }) {
  const { stdout } = useStdout()
  const [, resized] = useReducer((n: number) => n + 1, 0)
  useEffect(() => {
    if (fixed) return
    stdout.on('resize', resized)
    return () => void stdout.off('resize', resized)
  }, [stdout, fixed])
  return fixed ?? { columns: stdout.columns || 80, rows: stdout.rows || 24 }
}

/** The container of `sq top`, all wiring (snapshots, keys through keys.ts's reducer, effects, messages' expiry). */
export function Top({ source, displayUrl, taskTimeout, intervalMs = 400, color = true, size: fixedSize }: TopProps) {
  const { exit } = useApp()
  const size = useTerminalSize(fixedSize)
  const theme = useMemo(() => makeTheme(color), [color])
  const [state, dispatch] = useReducer(reduce, INITIAL)
  const { selectedId, stream, filter, list, mode, scroll, paneOpen } = state
  const { snap, readFor, error, refresh } = useSnapshots(source, intervalMs, { selectedId, stream, filter, list })

  const running = snap?.running ?? []
  const listed = snap?.listed ?? { status: list, tasks: [] }
  const order = useMemo(() => [...running.map((t) => t.id), ...listed.tasks.map((t) => t.id)], [running, listed])
  const pane = snap?.pane && snap.pane.id === selectedId && snap.pane.stream === stream ? snap.pane : null
  const lines = useMemo(() => (pane ? paneLines(pane) : []), [pane])
  const layout = computeLayout({ rows: size.rows, running: running.length, listed: listed.tasks.length, paneOpen })
  const textRows = paneTextRows(layout.paneRows, progressBar(pane?.progress) !== '')

  // biome-ignore lint/correctness/useExhaustiveDependencies: once per snapshot; order and readFor come with it
  useEffect(() => {
    if (snap && readFor) dispatch({ type: 'snapshot', order, filter: readFor.filter, paneId: snap.pane?.id ?? null })
  }, [snap])
  useEffect(() => dispatch({ type: 'lines', id: pane?.id ?? null, count: lines.length }), [lines, pane?.id])
  const shown = state.message
  useEffect(() => {
    if (!shown || shown.error) return
    const timer = setTimeout(() => dispatch({ type: 'expire', at: shown.at }), MESSAGE_MS)
    return () => clearTimeout(timer)
  }, [shown])

  // The reducer asks; this carries out, and reports each action's result on the footer.
  const { effects } = state
  // biome-ignore lint/correctness/useExhaustiveDependencies: once per list of effects, by the perform of that render
  useEffect(() => {
    if (effects.length === 0) return
    dispatch({ type: 'effects-taken' })
    for (const effect of effects) perform(effect)
  }, [effects])
  function perform(effect: Effect) {
    if (effect.kind === 'quit') return exit()
    const say = (text: string, error?: true) => dispatch({ type: 'message', message: { text, error, at: Date.now() } })
    source[effect.kind](effect.id)
      .then(say, (e) => say(oneLine(coerceError(e).message), true))
      .finally(refresh)
  }

  const view: View = {
    order,
    lines: lines.length,
    textRows,
    now: Date.now(),
    status: (id) =>
      (pane?.id === id ? pane.status : null) ??
      (running.some((t) => t.id === id) ? 'progress' : listed.tasks.some((t) => t.id === id) ? listed.status : null),
    task: (id) =>
      (pane?.id === id ? pane.task : null) ?? [...running, ...listed.tasks].find((t) => t.id === id)?.task ?? '',
  }
  // Keys are read against the frame on screen: Ink draws at commit but swaps input handlers in a later
  // effect, so a stable handler reads the latest render's view from a ref (the reducer's state needs none).
  const latestView = useRef(view)
  latestView.current = view
  // A chunk of several characters (typed ahead, pasted) is taken one key at a time.
  const onInput = useCallback((input: string, key: Key) => {
    const press = (k: KeyPress) => dispatch({ type: 'key', key: k, view: latestView.current })
    if (input.length > 1 && !key.ctrl && !key.meta) {
      for (const ch of input)
        press({ ...key, input: ch === '\r' || ch === '\n' ? '' : ch, return: ch === '\r' || ch === '\n' })
    } else press({ ...key, input })
  }, [])
  useInput(onInput)

  const frame = { width: size.columns, theme }
  const rows = { ...frame, selectedId }
  const message = state.message ?? (error ? { text: error, error: true } : null)
  return (
    <Box flexDirection="column" width={frame.width} height={size.rows - SPARE_ROWS} overflow="hidden">
      <Header {...frame} displayUrl={displayUrl} snapshot={snap} />
      {mode.kind === 'help' ? (
        <Help {...frame} rows={layout.bodyRows} intervalMs={intervalMs} />
      ) : (
        <Box flexDirection="column" height={layout.bodyRows} overflow="hidden">
          <RunningTable
            {...rows}
            tasks={running}
            total={snap?.counts.progress ?? 0}
            rows={layout.runningRows}
            timeoutSeconds={taskTimeout}
            filter={filter}
          />
          {paneOpen ? (
            <OutputPane
              {...frame}
              pane={pane}
              lines={lines}
              scroll={scroll}
              rows={layout.paneRows}
              timeoutSeconds={taskTimeout}
              note={
                selectedId === null || pane !== null
                  ? undefined
                  : readFor?.selectedId === selectedId && readFor.stream === stream
                    ? '  the selected task no longer exists'
                    : '  loading…'
              }
            />
          ) : null}
          <TaskList {...rows} status={listed.status} tasks={listed.tasks} rows={layout.listRows} />
        </Box>
      )}
      {mode.kind === 'confirm' ? (
        <ConfirmDialog {...frame} id={mode.id} task={mode.task} />
      ) : mode.kind === 'filter' ? (
        <FilterPrompt {...frame} draft={mode.draft} />
      ) : (
        <Footer {...frame} message={message} />
      )}
    </Box>
  )
}

// The alternate screen, as htop and less use it: the user's scrollback is left as it was.
const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[H\x1b[2J'
const LEAVE_ALT_SCREEN = '\x1b[?1049l'

/** Runs `sq top` full-screen until the user quits (q or Ctrl-C): the one caller of Ink's `render`. */
export async function renderTop(props: TopProps): Promise<void> {
  process.stdout.write(ENTER_ALT_SCREEN)
  const restore = () => process.stdout.write(LEAVE_ALT_SCREEN)
  process.once('exit', restore) // even if something throws past us, the terminal gets its screen back
  try {
    await render(<Top {...props} />, { exitOnCtrlC: false, patchConsole: true, maxFps: 20 }).waitUntilExit()
  } finally {
    process.off('exit', restore)
    restore()
  }
}
