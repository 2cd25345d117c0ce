import type { Task } from '../../src/index.js'

/** The largest number of [started, finished] intervals of these tasks that overlap at one instant. */
export function maxOverlap(tasks: Array<Pick<Task, 'started' | 'finished'>>): number {
  const edges = tasks.flatMap((t) => [
    { at: Date.parse(t.started!), d: 1 },
    { at: Date.parse(t.finished!), d: -1 },
  ])
  edges.sort((a, b) => a.at - b.at || a.d - b.d)
  let now = 0
  let most = 0
  for (const e of edges) most = Math.max(most, (now += e.d))
  return most
}
