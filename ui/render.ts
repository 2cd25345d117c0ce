import { createElement } from 'react'
import { render } from 'ink'
import { Top, type TopProps } from './top/top.js'

/** The one caller of Ink's `render`: interactive screens are drawn from here and nowhere else. */

// The alternate screen, as htop and less use it: the UI takes the whole terminal while it runs and the
// user's scrollback is left as it was when it quits.
const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[H\x1b[2J'
const LEAVE_ALT_SCREEN = '\x1b[?1049l'

/** Runs `sq top` full-screen until the user quits (q or Ctrl-C). */
export async function renderTop(props: TopProps): Promise<void> {
  process.stdout.write(ENTER_ALT_SCREEN)
  const restore = () => process.stdout.write(LEAVE_ALT_SCREEN)
  process.once('exit', restore) // even if something throws past us, the terminal gets its screen back
  try {
    await render(createElement(Top, props), { exitOnCtrlC: false, patchConsole: true, maxFps: 20 }).waitUntilExit()
  } finally {
    process.off('exit', restore)
    restore()
  }
}
