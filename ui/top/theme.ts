/**
 * The colours of `sq top`, by role. With colour off (NO_COLOR, or a terminal without colour) every
 * role is undefined, which Ink's `color` prop treats as "no colour"; emphasis that is not colour
 * (bold, inverse for the selected row) stays, as NO_COLOR intends.
 */
export interface Theme {
  title?: string
  dim?: string
  running?: string
  completed?: string
  failed?: string
  queued?: string
  cancelled?: string
  warn?: string
  accent?: string
}

const COLOURS: Required<Theme> = {
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

export function theme(color: boolean): Theme {
  return color ? COLOURS : {}
}

/** Whether colour is wanted: not when NO_COLOR is set to anything non-empty (https://no-color.org). */
export function colorWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return !env.NO_COLOR
}
