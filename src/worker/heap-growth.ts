import { PerformanceObserver } from 'node:perf_hooks'
import v8 from 'node:v8'

/** Both semi-spaces of the young generation together; 2 × 4 MiB measured best here (see below). */
const YOUNG_CAP_BYTES = 8 * 1024 * 1024
/** How far V8 lets the old generation grow past what survived its last full collection. */
const OLD_GROWTH_PERCENT = 20

const youngBytes = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0

/**
 * Keeps a long-running worker's V8 heap near its live size, however many tasks it runs. A worker
 * allocates ~40 KB per task (queries, IPC, records) and keeps almost none of it, but V8's defaults let
 * the garbage stand: over 10,000 no-op tasks the worker grew by ~50 MB, ~28 MB of it the young generation
 * (doubled under allocation up to 2 × 16 MiB on Node 20, and kept while the process is busy), most of the
 * rest promoted garbage awaiting a full collection (V8 lets a small, quickly collected old generation grow
 * up to 4× before collecting it).
 *
 * Both are V8 flags set at run time, since a worker is started in many ways (`sq worker`, `node
 * bin/run.js worker`, npx): `--max-semi-space-size` would cap the young generation only when given as
 * Node starts, but the growth factor is read at each growth, so once the young generation reaches its cap
 * the factor is set to 1 (0 crashes V8); the old generation's growing percent is read at each full
 * collection. Measured over 10,000 no-op tasks at c=4: semi-spaces of 1 MiB take 4× the scavenges of
 * 16 MiB and promote enough to bring full collections; 4 MiB take 2× (~0.02 ms a task) and none.
 */
export function boundHeapGrowth(): void {
  v8.setFlagsFromString(`--heap-growing-percent=${OLD_GROWTH_PERCENT}`)
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
