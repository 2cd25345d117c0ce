import type { PgCluster } from './cluster.js'
import type { SmallDisk } from './disk.js'
import type { Fleet } from './fleet.js'
import type { Random } from './random.js'

/**
 * The faults, one at a time, 5–20 s apart (seeded). Each is recorded with its time span and, when it
 * hit one worker, that worker's pid: the tally explains a re-run only by a fault that could have caused it.
 */

export type FaultKind =
  | 'kill -9'
  | 'SIGSTOP'
  | 'SIGTERM'
  | 'pg restart fast'
  | 'pg restart immediate'
  | 'pg down 8s'
  | 'disk full 10s'

/** Faults that hit one worker; the others hit every worker at once (the database). */
export const WORKER_FAULTS: readonly FaultKind[] = ['kill -9', 'SIGSTOP', 'SIGTERM']

export interface Fault {
  kind: FaultKind
  at: number
  end: number
  /** The worker it hit, for the worker faults. */
  pid?: number
}

export interface FaultTargets {
  fleet: Fleet
  cluster?: PgCluster
  disk?: SmallDisk
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function faultKinds(t: FaultTargets): FaultKind[] {
  const kinds: FaultKind[] = [...WORKER_FAULTS]
  if (t.cluster) kinds.push('pg restart fast', 'pg restart immediate', 'pg down 8s')
  if (t.disk) kinds.push('disk full 10s')
  return kinds
}

/** Injects faults until `done()` says stop; resolves once the last one is undone. */
export async function injectFaults(
  t: FaultTargets,
  random: Random,
  done: () => boolean,
  onFault: (f: Fault) => void,
): Promise<Fault[]> {
  const kinds = faultKinds(t)
  const faults: Fault[] = []
  for (;;) {
    const gap = random.int(5_000, 20_000)
    for (const until = Date.now() + gap; Date.now() < until && !done(); ) await sleep(200)
    if (done()) return faults
    const fault = await inject(t, random.pick(kinds), random)
    faults.push(fault)
    onFault(fault)
  }
}

async function inject(t: FaultTargets, kind: FaultKind, random: Random): Promise<Fault> {
  const at = Date.now()
  const worker = random.int(0, t.fleet.size - 1)
  let pid: number | undefined
  switch (kind) {
    case 'kill -9':
      pid = await t.fleet.kill(worker)
      break
    case 'SIGTERM':
      pid = await t.fleet.term(worker)
      break
    case 'SIGSTOP':
      pid = t.fleet.signal(worker, 'SIGSTOP')
      await sleep(random.int(5_000, 15_000))
      t.fleet.signal(worker, 'SIGCONT')
      break
    case 'pg restart fast':
      await t.cluster!.restart('fast')
      break
    case 'pg restart immediate':
      await t.cluster!.restart('immediate')
      break
    case 'pg down 8s':
      await t.cluster!.stop('fast')
      try {
        await sleep(8_000)
      } finally {
        await t.cluster!.start()
      }
      break
    case 'disk full 10s':
      t.disk!.fill()
      try {
        await sleep(10_000)
      } finally {
        t.disk!.free()
      }
      break
  }
  return { kind, at, end: Date.now(), pid }
}
