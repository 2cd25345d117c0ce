import { Box, useApp, useInput, useStdout, type Key } from 'ink'
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import type { MonitorSource, Snapshot, Stream } from '../../src/monitor.js'
import { coerceError, oneLine } from '../../src/errors.js'
import { Failures } from './failures.js'
import { ConfirmDialog, FilterPrompt, Footer } from './footer.js'
import { Header } from './header.js'
import { Help } from './help.js'
import { computeLayout, paneLines, SPARE_ROWS } from './layout.js'
import { clampScroll, OutputPane } from './output-pane.js'
import { RunningTable } from './running-table.js'
import { theme as makeTheme } from './theme.js'

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

type Mode = { kind: 'normal' } | { kind: 'help' } | { kind: 'confirm'; id: string; task: string } | { kind: 'filter'; draft: string }

const MESSAGE_MS = 4000

/** The terminal's size, updated on every resize. */
function useTerminalSize(fixed?: { columns: number; rows: number }) {
  const { stdout } = useStdout()
  const read = () => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 })
  const [size, setSize] = useState(read)
  useEffect(() => {
    if (fixed) return
    const onResize = () => setSize(read())
    stdout.on('resize', onResize)
    return () => {
      stdout.off('resize', onResize)
    }
  }, [stdout, fixed])
  return fixed ?? size
}

/**
 * The container of `sq top`: it alone polls the source, holds the selection, scroll, filter and
 * dialogs, and handles keys; everything it draws is a props-only component.
 */
export function Top({ source, displayUrl, taskTimeout, intervalMs = 400, color = true, size: fixedSize }: TopProps) {
  const { exit } = useApp()
  const size = useTerminalSize(fixedSize)
  const theme = useMemo(() => makeTheme(color), [color])
  const [snap, setSnap] = useState<Snapshot | null>(null)
  /** The selection and stream the current snapshot was read for. */
  const [readFor, setReadFor] = useState<{ id: string | null; stream: Stream } | null>(null)
  const [selectedId, setSelectedIdState] = useState<string | null>(null)
  const [paneOpen, setPaneOpen] = useState(true)
  const [stream, setStream] = useState<Stream>('output')
  const [scroll, setScroll] = useState(0)
  const [mode, setModeState] = useState<Mode>({ kind: 'normal' })
  const [filter, setFilter] = useState('')
  const [message, setMessage] = useState<{ text: string; error?: boolean; at: number } | null>(null)

  // Keys can arrive faster than React re-renders (typing, pasting, key repeat), so the key handler
  // reads the mode and the selection from refs that change at once, not from the last render's state.
  const modeRef = useRef(mode)
  const setMode = (m: Mode) => {
    modeRef.current = m
    setModeState(m)
  }
  const selectedRef = useRef(selectedId)
  const setSelectedId = (id: string | null) => {
    selectedRef.current = id
    setSelectedIdState(id)
  }

  // The poll loop reads the current wishes through a ref, so a key press never restarts it.
  const wishes = useRef({ selectedId, stream, filter })
  wishes.current = { selectedId, stream, filter }
  const refreshNow = useRef<() => void>(() => {})

  useEffect(() => {
    let stopped = false
    let busy = false
    let again = false
    let timer: NodeJS.Timeout | undefined
    let previous: Snapshot | null = null
    const tick = async () => {
      if (stopped) return
      if (busy) {
        again = true
        return
      }
      busy = true
      clearTimeout(timer)
      try {
        const w = wishes.current
        const next = await source.snapshot({ filter: w.filter, selectedId: w.selectedId, stream: w.stream, previous })
        if (stopped) return
        previous = next
        setSnap(next)
        setReadFor({ id: w.selectedId ?? next.pane?.id ?? null, stream: w.stream })
        // The first running task is selected at start, then kept: it stays selected when it ends.
        if (selectedRef.current === null && next.pane) setSelectedId(next.pane.id)
        setMessage((m) => (m?.error ? null : m))
      } catch (error) {
        if (!stopped) setMessage({ text: `database: ${oneLine(coerceError(error).message)}`, error: true, at: Date.now() })
      } finally {
        busy = false
      }
      if (stopped) return
      if (again) {
        again = false
        void tick()
      } else timer = setTimeout(tick, intervalMs)
    }
    refreshNow.current = () => void tick()
    void tick()
    let unwatch: (() => Promise<void>) | undefined
    source
      .watch(() => refreshNow.current())
      .then((stop) => (stopped ? void stop() : (unwatch = stop)))
      .catch(() => {}) // without notifications, polling alone keeps the screen live
    return () => {
      stopped = true
      clearTimeout(timer)
      void unwatch?.()
    }
  }, [source, intervalMs])

  // Wishes changed (selection, stream, filter): refresh at once rather than at the next poll.
  useEffect(() => refreshNow.current(), [selectedId, stream, filter])

  useEffect(() => {
    if (!message || message.error) return
    const t = setTimeout(() => setMessage((m) => (m === message ? null : m)), MESSAGE_MS)
    return () => clearTimeout(t)
  }, [message])

  const running = snap?.running ?? []
  const failures = snap?.failures ?? []
  const order = useMemo(() => [...running.map((t) => t.id), ...failures.map((f) => f.id)], [running, failures])
  const pane = snap?.pane && snap.pane.id === selectedId && snap.pane.stream === stream ? snap.pane : null
  const lines = useMemo(() => (pane ? paneLines(pane) : []), [pane])
  const layout = computeLayout({ rows: size.rows, running: running.length, failures: failures.length, paneOpen })

  // While scrolled up, keep the same lines in view as the output grows below them.
  const seen = useRef({ id: null as string | null, count: 0 })
  useEffect(() => {
    const id = pane?.id ?? null
    if (id === seen.current.id && lines.length > seen.current.count) {
      const grown = lines.length - seen.current.count
      setScroll((s) => (s > 0 ? s + grown : 0))
    }
    seen.current = { id, count: lines.length }
  }, [lines, pane?.id])

  // Where the selection was, so ↑/↓ continue from there after the selected task left the lists.
  const lastIndex = useRef(0)
  const index = selectedId === null ? -1 : order.indexOf(selectedId)
  if (index >= 0) lastIndex.current = index

  const select = (id: string | null) => {
    setSelectedId(id)
    setScroll(0)
  }
  const move = (delta: number) => {
    if (order.length === 0) return
    const current = selectedRef.current === null ? -1 : order.indexOf(selectedRef.current)
    if (current >= 0) lastIndex.current = current
    const from = current >= 0 ? current : Math.min(lastIndex.current, order.length) - (delta > 0 ? 1 : 0)
    select(order[Math.min(order.length - 1, Math.max(0, from + delta))]!)
  }
  const statusOf = (id: string) =>
    (pane?.id === id ? pane.status : null) ??
    (running.some((t) => t.id === id) ? 'progress' : failures.some((f) => f.id === id) ? 'failed' : null)
  const taskOf = (id: string) =>
    (pane?.id === id ? pane.task : null) ?? running.find((t) => t.id === id)?.task ?? failures.find((f) => f.id === id)?.task ?? ''
  const act = (what: Promise<string>) => {
    what
      .then((text) => setMessage({ text, at: Date.now() }))
      .catch((error) => setMessage({ text: oneLine(coerceError(error).message), error: true, at: Date.now() }))
      .finally(() => refreshNow.current())
  }
  const quit = () => exit()

  // A chunk of several characters (typed faster than read, or pasted) is taken one key at a time.
  // The handler given to Ink is stable and calls the latest render's onKey through a ref: Ink swaps
  // handlers in an effect, after the frame is drawn, and a key pressed in between would otherwise
  // act on the previous snapshot.
  const onKeyRef = useRef<(input: string, key: Key) => void>(() => {})
  onKeyRef.current = onKey
  const handleInput = useCallback((input: string, key: Key) => {
    if (input.length > 1 && !key.ctrl && !key.meta) {
      for (const ch of input) {
        const enter = ch === '\r' || ch === '\n'
        onKeyRef.current(enter ? '' : ch, { ...key, return: enter })
      }
    } else onKeyRef.current(input, key)
  }, [])
  useInput(handleInput)

  function onKey(input: string, key: Key) {
    const mode = modeRef.current
    const selectedId = selectedRef.current
    if (key.ctrl && input === 'c') return quit()
    if (mode.kind === 'help') return setMode({ kind: 'normal' })
    if (mode.kind === 'confirm') {
      setMode({ kind: 'normal' })
      if (input === 'y' || input === 'Y') act(source.cancel(mode.id))
      else setMessage({ text: 'not cancelled', at: Date.now() })
      return
    }
    if (mode.kind === 'filter') {
      if (key.return) {
        setFilter(mode.draft.trim())
        setMode({ kind: 'normal' })
      } else if (key.escape) {
        setFilter('')
        setMode({ kind: 'normal' })
      } else if (key.backspace || key.delete) setMode({ kind: 'filter', draft: mode.draft.slice(0, -1) })
      else if (input && !key.ctrl && !key.meta) setMode({ kind: 'filter', draft: mode.draft + input.replace(/[\u0000-\u001f\u007f]/g, '') })
      return
    }
    const pageRows = Math.max(1, layout.paneRows - 1)
    if (input === 'q') quit()
    else if (key.upArrow || input === 'k') move(-1)
    else if (key.downArrow || input === 'j') move(1)
    else if (key.return) setPaneOpen((open) => !open)
    else if (input === 'l') {
      setStream((s) => (s === 'output' ? 'log' : 'output'))
      setScroll(0)
    } else if (key.pageUp) setScroll((s) => clampScroll(s + pageRows, lines.length, layout.paneRows))
    else if (key.pageDown) setScroll((s) => clampScroll(s - pageRows, lines.length, layout.paneRows))
    else if (key.home || input === 'g') setScroll(clampScroll(lines.length, lines.length, layout.paneRows))
    else if (key.end || input === 'G') setScroll(0)
    else if (input === '?') setMode({ kind: 'help' })
    else if (input === '/') setMode({ kind: 'filter', draft: filter })
    else if (key.escape && filter) setFilter('')
    else if (input === 'c') {
      const status = selectedId === null ? null : statusOf(selectedId)
      if (selectedId === null) setMessage({ text: 'select a task to cancel first', at: Date.now() })
      else if (status === 'queued' || status === 'progress') setMode({ kind: 'confirm', id: selectedId, task: taskOf(selectedId) })
      else setMessage({ text: `only queued or running tasks can be cancelled; this one is ${status ?? 'gone'}`, at: Date.now() })
    } else if (input === 'r') {
      const status = selectedId === null ? null : statusOf(selectedId)
      if (selectedId === null) setMessage({ text: 'select a task to requeue first', at: Date.now() })
      else if (status === 'failed' || status === 'cancelled' || status === 'completed') act(source.requeue(selectedId))
      else setMessage({ text: `only failed, cancelled or completed tasks can be requeued; this one is ${status ?? 'gone'}`, at: Date.now() })
    }
  }

  const width = size.columns
  const bodyRows = Math.max(1, size.rows - SPARE_ROWS - 3 - 1)
  return (
    <Box flexDirection="column" width={width} height={size.rows - SPARE_ROWS} overflow="hidden">
      <Header displayUrl={displayUrl} snapshot={snap} width={width} theme={theme} />
      {mode.kind === 'help' ? (
        <Help rows={bodyRows} width={width} theme={theme} intervalMs={intervalMs} />
      ) : (
        <Box flexDirection="column" height={bodyRows} overflow="hidden">
          <RunningTable
            tasks={running}
            total={snap?.counts.progress ?? 0}
            selectedId={selectedId}
            rows={layout.runningRows}
            width={width}
            timeoutSeconds={taskTimeout}
            filter={filter}
            theme={theme}
          />
          {paneOpen ? (
            <OutputPane
              pane={pane}
              lines={lines}
              scroll={scroll}
              rows={layout.paneRows}
              width={width}
              theme={theme}
              note={
                selectedId === null || pane !== null
                  ? undefined
                  : readFor?.id === selectedId && readFor.stream === stream
                    ? '  the selected task no longer exists'
                    : '  loading…'
              }
            />
          ) : null}
          <Failures failures={failures} selectedId={selectedId} rows={layout.failureRows} width={width} theme={theme} />
        </Box>
      )}
      {mode.kind === 'confirm' ? (
        <ConfirmDialog width={width} theme={theme} id={mode.id} task={mode.task} />
      ) : mode.kind === 'filter' ? (
        <FilterPrompt width={width} theme={theme} draft={mode.draft} />
      ) : (
        <Footer width={width} theme={theme} message={message} />
      )}
    </Box>
  )
}
