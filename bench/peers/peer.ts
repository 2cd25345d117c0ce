/**
 * The shape every peer queue takes in the bench, and the messages between the bench and the process
 * that runs a peer's worker (peers/host.ts). A peer's worker runs in its own process, as its users run
 * it, so its memory can be read apart from the bench's and it competes for the CPU like `sq worker`.
 */
import type { IdleTarget } from '../idle.js'
import type { Span } from '../process.js'

export type PeerId = 'graphile-worker' | 'pg-boss' | 'bullmq'

export interface Peer {
  /** Which peer: also the name its host process is started with. */
  id: PeerId
  /** Name and version, as printed. */
  label: string
  /** The sq database it is compared with. */
  versus: 'sqlite' | 'postgres'
  /** How it is run, printed under the tables. */
  method: string
  /** Why it cannot run on this machine, or undefined when it can. */
  unavailable(): Promise<string | undefined>
  /**
   * No-op jobs/s at concurrency c over n queued jobs, from its own records (first start to last end of
   * the completed ones); the worker is stopped after `runMs` if not done by then.
   */
  throughput(c: number, n: number, runMs: number): Promise<number>
  /** An idle worker for pickup latency and memory (a new one for each try). */
  idle(): IdleTarget
  /** Fewer pickup samples for a peer that polls (each costs half its interval on average). */
  maxPickupSamples?: number
}

/** What the bench passes a peer's host: where its store is, what to call the queue. */
export interface HostConfig {
  url?: string
  queue?: string
  /** BullMQ's sandboxed processor file. */
  processor?: string
  /** BullMQ in-process instead: each job awaits a timer of this many ms (bench/io-bound.ts). */
  sleepMs?: number
  batchSize?: number
}

/** What a host keeps when the peer's records do not survive the job (graphile-worker deletes them). */
export interface HostReport {
  completed: number
  /** ms from the latest job's creation to its start. */
  lastPickup: number | null
  /** Start and end (ms) of each completed job; only when asked for (`jobs: true`). */
  jobs?: Span[]
}

/** A peer's worker, running inside the host. */
export interface Served {
  report?(withJobs: boolean): HostReport
  stop(): Promise<void>
}

export type ToHost = { type: 'report'; jobs: boolean } | { type: 'stop' }
export type FromHost = { type: 'ready' } | { type: 'report'; report: HostReport } | { type: 'stopped' }
