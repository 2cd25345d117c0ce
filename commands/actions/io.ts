import type { Settings } from '../../src/config.js'
import type { Queue } from '../../src/queue/queue.js'
import type { FlagsOf } from '../flag-table.js'
import type { SHARED } from '../flags.js'

/** The shared flags the settings are resolved with. */
export type SharedFlags = Pick<FlagsOf<typeof SHARED>, 'db' | 'root'>

/**
 * What a command's action needs from the front end that parsed its flags: oclif's command class, or
 * the fast path that runs the hot commands without loading oclif (commands/fast/). Both give the same
 * action the same things, so the two paths print the same bytes and exit with the same codes.
 */
export interface CommandIO {
  /** `--json` was given: print data with logJson, nothing else on stdout. */
  readonly json: boolean
  /** A line on stdout (oclif's `this.log`). */
  log(text: string): void
  /** One JSON document on stdout (oclif's `this.logJson`). */
  logJson(value: unknown): void
  /** The settings, resolved once: the flags, then the environment and the config file. */
  resolveSettings(flags: SharedFlags, extra?: Partial<Settings>): Promise<Settings>
  /**
   * The queue, opened once, on those settings. Only commands that write pass `create` (SPEC §5:
   * enqueue, worker, migrate); for the others a missing database is an error and nothing is created.
   */
  openQueue(flags: SharedFlags, extra?: Partial<Settings>, open?: { create?: boolean }): Promise<Queue>
}

/** oclif's `ux.stdout` is console.log of the text: the same bytes, written the same way. */
export function logLine(text: string): void {
  console.log(text)
}

/** oclif's logJson without a theme: JSON indented by 2, then a newline. */
export function logJsonDocument(value: unknown): void {
  console.log(JSON.stringify(value, null, 2))
}
