/** What one run in a task process costs: its CPU time and peak memory, as the run's record keeps them. */

/** A run's rss is sampled only once it has lasted this long, and this often after that. */
const SAMPLE_MS = 100

/** A reading of this process's rss younger than this serves again: each costs a read of /proc (~8 µs). */
const RSS_FRESH_MS = 20
let lastRss = { at: Number.NEGATIVE_INFINITY, bytes: 0 }

function currentRss(): number {
  const now = performance.now()
  if (now - lastRss.at >= RSS_FRESH_MS) lastRss = { at: now, bytes: process.memoryUsage.rss() }
  return lastRss.bytes
}

/**
 * Measures one run's CPU time and peak memory, cheaply enough for a no-op task: a getrusage at each end,
 * and rss samples only for a run that lasts past SAMPLE_MS. ru_maxrss is the process's lifetime peak: the
 * run's own if it rose during the run, else the samples tell.
 */
export function measureRun(): () => { cpuMs: number; peakRss: number } {
  const start = process.resourceUsage()
  let sampled = 0
  const sample = () => (sampled = Math.max(sampled, currentRss()))
  let interval: NodeJS.Timeout | undefined
  const late = setTimeout(() => {
    sample()
    interval = setInterval(sample, SAMPLE_MS).unref()
  }, SAMPLE_MS).unref()
  return () => {
    clearTimeout(late)
    clearInterval(interval)
    const end = process.resourceUsage()
    const cpuMicros = end.userCPUTime + end.systemCPUTime - start.userCPUTime - start.systemCPUTime
    const peakRss = end.maxRSS > start.maxRSS ? end.maxRSS * 1024 : sample()
    return { cpuMs: Math.round(cpuMicros / 1000), peakRss }
  }
}
