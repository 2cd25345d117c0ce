import { coerceError, oneLine } from '../../src/errors.js'
import { escapeControl } from '../../src/display-text.js'

/**
 * Where an error becomes one line on stderr (a stack with --verbose or DEBUG) and an exit code, for
 * both front ends. `exitCode`, when given, overrides the error's own (oclif's parse errors are bad
 * input). Returns the exit code, also set as process.exitCode.
 */
export function reportError(error: unknown, argv: string[], exitCode?: number): number {
  const sq = coerceError(error)
  const code = exitCode ?? sq.exitCode
  if (code === 0) return 0
  const verbose = argv.includes('--verbose') || Boolean(process.env.DEBUG)
  // Messages quote input and task errors: escaped, so that none can drive the terminal.
  process.stderr.write(`sq: ${escapeControl(verbose ? (sq.stack ?? sq.message) : oneLine(sq.message))}\n`)
  process.exitCode = code
  return code
}
