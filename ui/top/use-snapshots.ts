import { useEffect, useRef, useState } from 'react'
import type { MonitorSource, Snapshot } from '../../src/monitor.js'
import { coerceError, oneLine } from '../../src/errors.js'
import type { TopState } from './keys.js'

/** What the screen asks the database for: the pane's task and stream, the filter, the lower list. */
type Wishes = Pick<TopState, 'selectedId' | 'stream' | 'filter' | 'list'>

/** The latest snapshot; the wishes it was read for (with the pane's id the source chose); the last read's failure. */
type Snapshots = { snap: Snapshot | null; readFor: Wishes | null; error: string | null }

/**
 * Polls the source every `intervalMs`, and at once when the wishes change or the database announces a change
 * (NOTIFY). One read at a time; the loop restarts with new wishes, and the previous snapshot carries the pane on.
 */
export function useSnapshots(source: MonitorSource, intervalMs: number, wishes: Wishes) {
  const [state, setState] = useState<Snapshots>({ snap: null, readFor: null, error: null })
  /** The last snapshot read, whichever loop read it: the next read continues its pane. */
  const previous = useRef<Snapshot | null>(null)
  /** The read in flight, whichever loop started it: a new loop waits for it rather than read beside it. */
  const inFlight = useRef<Promise<unknown>>(Promise.resolve())
  /** Wakes the current loop: what a notification calls. */
  const wake = useRef<() => void>(() => {})
  const { selectedId, stream, filter, list } = wishes

  useEffect(() => {
    let stopped = false
    let timer: NodeJS.Timeout | undefined
    let wakeUp: () => void = () => {}
    wake.current = () => wakeUp()
    const read = async () => {
      const wanted = { selectedId, stream, filter, list }
      try {
        const next = await source.snapshot({ ...wanted, previous: previous.current })
        previous.current = next
        if (!stopped)
          setState({ snap: next, readFor: { ...wanted, selectedId: selectedId ?? next.pane?.id ?? null }, error: null })
      } catch (error) {
        if (!stopped) setState((s) => ({ ...s, error: `database: ${oneLine(coerceError(error).message)}` }))
      }
    }
    void (async () => {
      await inFlight.current.catch(() => {})
      while (!stopped) {
        const reading = read()
        inFlight.current = reading
        await reading
        if (stopped) return
        await new Promise<void>((resolve) => {
          wakeUp = resolve
          timer = setTimeout(resolve, intervalMs)
        })
        clearTimeout(timer)
      }
    })()
    return () => {
      stopped = true
      clearTimeout(timer)
      wakeUp()
    }
  }, [source, intervalMs, selectedId, stream, filter, list])

  useEffect(() => {
    let stopped = false
    let unwatch: (() => Promise<void>) | undefined
    source
      .watch(() => wake.current())
      .then((stop) => (stopped ? void stop() : (unwatch = stop)))
      .catch(() => {}) // without notifications, polling alone keeps the screen live
    return () => {
      stopped = true
      void unwatch?.()
    }
  }, [source])

  // refresh: reads again now (after an action), rather than at the next poll.
  return { ...state, refresh: () => wake.current() }
}
