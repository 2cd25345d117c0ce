import { PerformanceObserver } from 'node:perf_hooks'
import v8 from 'node:v8'

/** Both semi-spaces together; 2 × 4 MiB measured best here (see capYoungGeneration). */
const CAP_BYTES = 8 * 1024 * 1024

const youngBytes = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0

/**
 * Stops V8 growing the young generation (new space) past CAP_BYTES in this process. Under a worker's
 * steady allocation V8 doubles it up to 2 × 16 MiB on Node 20 and keeps it while the process is busy:
 * that was ~28 MB of the ~50 MB a worker grew by over 10,000 tasks. `--max-semi-space-size` caps it only
 * when given as Node starts, and a worker is started in many ways (`sq worker`, `node bin/run.js
 * worker`, npx); set later, it has no effect. The growth factor is read at each growth, so once the new
 * space reaches the cap it is set to 1: no more growth. (A factor of 0 crashes V8; 1 is safe.) Measured
 * over 10,000 no-op tasks on SQLite at c=4: semi-spaces of 1 MiB cost 4× the scavenges of 16 MiB and
 * promote enough to bring full GCs; 4 MiB cost 2× the scavenges (~0.02 ms a task) and no full GC.
 */
export function capYoungGeneration(): void {
  const pin = () => v8.setFlagsFromString('--semi-space-growth-factor=1')
  if (youngBytes() >= CAP_BYTES) {
    pin()
    return
  }
  // V8 grows the new space during a scavenge; the observer sees each collection just after it.
  const observer = new PerformanceObserver(() => {
    if (youngBytes() < CAP_BYTES) return
    pin()
    observer.disconnect()
  })
  observer.observe({ entryTypes: ['gc'] })
}
