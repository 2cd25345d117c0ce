import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** oclif's help flags: its own, and package.json's oclif.additionalHelpFlags. */
const HELP_FLAGS = ['--help', '-h']

/** The width oclif renders help at when stdout is not a terminal, the one it was rendered at. */
const RENDERED_WIDTH = 80

/** The command ('' for sq) whose help `argv` asks for in a plain form (`sq`, `sq [COMMAND] --help`), else undefined. */
export function helpRequest(argv: string[]): string | undefined {
  if (argv.length === 0) return ''
  if (argv.length === 1 && HELP_FLAGS.includes(argv[0]!)) return ''
  if (argv.length === 2 && HELP_FLAGS.includes(argv[1]!)) return argv[0]
  return undefined
}

/** Prints the help oclif rendered at build time (scripts/help-text.mjs); false leaves it to oclif (width, theme). */
export async function printHelp(id: string, userAgent: string | undefined): Promise<boolean> {
  if (userAgent === undefined || helpWidth() !== RENDERED_WIDTH || hasUserTheme()) return false
  let rendered: { HELP: Record<string, string>; USER_AGENT: string }
  try {
    // Beside the bundle's files, and no part of the bundle: esbuild leaves a computed import alone.
    rendered = await import(new URL('./help-text.js', import.meta.url).href)
  } catch {
    return false
  }
  const text = Object.hasOwn(rendered.HELP, id) ? rendered.HELP[id] : undefined
  if (text === undefined) return false
  process.stdout.write(text.replaceAll(rendered.USER_AGENT, userAgent))
  return true
}

/** oclif's width of help (@oclif/core's screen.js, settings aside). */
function helpWidth(): number {
  const columns = Number.parseInt(process.env.OCLIF_COLUMNS ?? '', 10)
  if (columns) return columns
  if (!process.stdout.isTTY) return 80
  const width = process.stdout.getWindowSize()[0]!
  return width < 1 ? 80 : Math.max(width, 40)
}

/** A theme.json in oclif's config directory for sq colours oclif's help (@oclif/core Config.loadTheme). */
function hasUserTheme(): boolean {
  if (process.platform === 'win32') return true
  const home = process.env.HOME || os.homedir()
  const dir = process.env.SQ_CONFIG_DIR || path.join(process.env.XDG_CONFIG_HOME || path.join(home, '.config'), 'sq')
  return fs.existsSync(path.join(dir, 'theme.json'))
}
