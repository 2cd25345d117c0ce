import { PerformanceObserver } from 'node:perf_hooks'
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'

/** Both semi-spaces of the young generation together: 2 × 2 MiB, its size at start (see boundHeapGrowth). */
const YOUNG_CAP_BYTES = 4 * 1024 * 1024
/** How long a worker must have ended no task before it collects what its last stretch of work left. */
const IDLE_COLLECT_MS = 500
/** How far the heap must have grown since the last collection for an idle turn to collect it. */
const COLLECT_GROWTH_BYTES = 2 * 1024 * 1024
/** How far V8 lets the old generation grow past what survived its last full collection. */
const OLD_GROWTH_PERCENT = 20
/**
 * The highest tier V8 compiles the worker's JavaScript to: 1, Sparkplug, its baseline compiler, not
 * TurboFan. TurboFan compiles on background threads whose memory stays with them once the work is
 * done (a malloc arena of ~0.5–0.7 MB per thread after a load, three of them here), and a worker's time
 * goes to the database driver, SQLite and IPC, not to its own JavaScript. Measured at once with and
 * without (no-op tasks, steady tasks/s at c=1/4/8, median of 3 rounds): SQLite 7,919 / 5,623 / 4,909
 * against 6,874 / 5,261 / 4,541, PostgreSQL 6,395 / 5,054 / 4,572 against 6,551 / 4,958 / 4,249; RSS
 * 2 s after 10,000 tasks +6% against +11–13% on PostgreSQL.
 */
const JIT_TIER_CAP = 1

const youngBytes = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0

/** Whether Node was started with one of these V8 flags (`--a-b` or `--a_b`), on its command line or in NODE_OPTIONS. */
function startedWith(...flags: string[]): boolean {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map((a) => a.replace(/_/g, '-'))
  return given.some((arg) => flags.some((flag) => arg === flag || arg.startsWith(`${flag}=`)))
}

/**
 * Keeps a long-running worker's V8 heap near its live size. A worker allocates ~40 KB per task and keeps
 * almost none of it, but V8's defaults let the garbage stand: over 10,000 no-op tasks a worker grew from
 * ~60 to ~110 MB, ~28 MB of it the young generation (doubled under allocation up to 2 × 16 MiB on Node
 * 20, and kept while busy), much of the rest promoted garbage (V8 lets a small old generation grow up
 * to 4× before a full collection).
 *
 * V8 flags set at run time, since a worker is started in many ways (`sq worker`, `node bin/run.js
 * worker`, npx): `--max-semi-space-size` works only as Node starts, but the growth factor is read at
 * each growth, so it is set to 1 (0 crashes V8) once the young generation reaches its cap; the old
 * generation's growing percent is read at each full collection. A flag Node was started with wins.
 * Measured over 10,000 no-op tasks at c=4 (SQLite, CPU of all processes): the young generation kept at
 * 2 × 2 MiB costs no more CPU than 2 × 4 MiB, and with collectWhenIdle ends ~4 MB smaller.
 */
export function boundHeapGrowth(): void {
  if (!startedWith('--heap-growing-percent')) v8.setFlagsFromString(`--heap-growing-percent=${OLD_GROWTH_PERCENT}`)
  if (!startedWith('--max-opt')) v8.setFlagsFromString(`--max-opt=${JIT_TIER_CAP}`)
  if (startedWith('--max-semi-space-size', '--semi-space-growth-factor')) return
  const pin = () => v8.setFlagsFromString('--semi-space-growth-factor=1')
  if (youngBytes() >= YOUNG_CAP_BYTES) {
    pin()
    return
  }
  // V8 grows the young generation during a scavenge; the observer sees each collection just after it.
  const observer = new PerformanceObserver(() => {
    if (youngBytes() < YOUNG_CAP_BYTES) return
    pin()
    observer.disconnect()
  })
  observer.observe({ entryTypes: ['gc'] })
}

/**
 * Collects garbage once a stretch of work is over: `tasksEnded` still for IDLE_COLLECT_MS and the heap
 * grown by COLLECT_GROWTH_BYTES since the last collection (a worker that runs a task now and then does
 * not collect after each). Otherwise the old generation stays at its high-water mark: V8's memory
 * reducer had not run 15 s after 10,000 tasks. Two collections back to back, ~10 ms: the second releases
 * the pages the first emptied (RSS 2 s after 10,000 no-op tasks, against idle: +25% with none, +21–24%
 * with one, +13–15% with two). Returns the stop.
 */
export function collectWhenIdle(tasksEnded: () => number): () => void {
  const collect = garbageCollector()
  const heapBytes = () => v8.getHeapStatistics().total_heap_size
  let seen = tasksEnded()
  let collectedAt = seen
  let heapAfter = heapBytes()
  const timer = setInterval(() => {
    const now = tasksEnded()
    if (now === seen && now !== collectedAt && heapBytes() > heapAfter + COLLECT_GROWTH_BYTES) {
      collect()
      collect()
      collectedAt = now
      heapAfter = heapBytes()
    }
    seen = now
  }, IDLE_COLLECT_MS)
  timer.unref()
  return () => clearInterval(timer)
}

/** V8's gc(): Node exposes it only with --expose-gc, which can be set at run time for new contexts. */
function garbageCollector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc
  if (exposed) return exposed
  v8.setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}
