import type { Status } from '../../src/task.js'

const COLOURS = {
  title: 'cyan',
  dim: 'gray',
  running: 'blue',
  completed: 'green',
  failed: 'red',
  queued: 'yellow',
  cancelled: 'gray',
  warn: 'yellow',
  accent: 'magenta',
}

/**
 * The colours of `sq top`, by role; with colour off every role is undefined, which Ink draws uncoloured, and
 * emphasis that is not colour (bold, inverse) stays, as NO_COLOR intends.
 */
export type Theme = Partial<typeof COLOURS>

/** What every part of the screen is drawn with. */
export type Frame = { width: number; theme: Theme }

export function theme(color: boolean): Theme {
  return color ? COLOURS : {}
}

/** A status's colour: `progress` is drawn as running. */
export const statusColor = (t: Theme, status: Status) => t[status === 'progress' ? 'running' : status]
