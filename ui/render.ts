import { createElement } from 'react'
import { render } from 'ink'
import type { MonitorSource } from '../src/monitor.js'
import { Top } from './top/top.js'

/** The one caller of Ink's `render`: interactive screens are drawn from here and nowhere else. */

export interface TopOptions {
  source: MonitorSource
  displayUrl: string
  taskTimeout: number
  intervalMs: number
  color: boolean
  stdout?: NodeJS.WriteStream
  stdin?: NodeJS.ReadStream
}

// The alternate screen, as htop and less use it: the UI takes the whole terminal while it runs and the
// user's scrollback is left as it was when it quits.
const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[H\x1b[2J'
const LEAVE_ALT_SCREEN = '\x1b[?1049l'

/** Runs `sq top` full-screen until the user quits (q or Ctrl-C). */
export async function renderTop(o: TopOptions): Promise<void> {
  const stdout = o.stdout ?? process.stdout
  stdout.write(ENTER_ALT_SCREEN)
  const restore = () => stdout.write(LEAVE_ALT_SCREEN)
  process.once('exit', restore) // even if something throws past us, the terminal gets its screen back
  try {
    const instance = render(
      createElement(Top, {
        source: o.source,
        displayUrl: o.displayUrl,
        taskTimeout: o.taskTimeout,
        intervalMs: o.intervalMs,
        color: o.color,
      }),
      { stdout, stdin: o.stdin ?? process.stdin, exitOnCtrlC: false, patchConsole: true, maxFps: 20 },
    )
    await instance.waitUntilExit()
  } finally {
    process.off('exit', restore)
    restore()
  }
}
