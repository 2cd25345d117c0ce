import { redactSecrets } from './redact.js'

/**
 * Exit codes of the SPEC: 0 success, 1 failure at run time, 2 bad input; and 130 (128 + SIGINT), what a
 * shell reports for a command stopped by Ctrl-C, when `--wait` stops waiting at one.
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const

/** Base of sq's error taxonomy; `exitCode` is what the CLI exits with. */
export class SqError extends Error {
  readonly exitCode: number = EXIT.failure
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

/** Bad input the user can fix: a flag, an argument, a config value. */
export class UsageError extends SqError {
  override readonly exitCode = EXIT.usage
}

/** A task reference refused by the allowlist. */
export class TaskNotAllowedError extends UsageError {}

/** No task (or not exactly one) matches what was asked for. */
export class NotFoundError extends SqError {}

/** The database cannot be reached or refused the operation. */
export class StorageError extends SqError {}

/** A task ended failed or cancelled while a command waited for it (`--wait`, `--follow`). */
export class TaskEndedBadlyError extends SqError {}

/**
 * Waiting stopped before the task ended — its timeout (`timedOut`), or Ctrl-C / an abort signal; the task
 * is left as it is (`sq enqueue --wait`, Queue.wait).
 */
export class WaitStoppedError extends SqError {
  override readonly exitCode: number
  readonly timedOut: boolean
  constructor(message: string, o: { interrupted: boolean }) {
    super(message)
    this.exitCode = o.interrupted ? EXIT.interrupted : EXIT.failure
    this.timedOut = !o.interrupted
  }
}

/**
 * Turns anything thrown into an SqError whose message is safe to print: one line, no password.
 * Errors that are not sq's own are storage errors when they come from a database driver, else bugs
 * (exit 1 either way).
 */
export function coerceError(error: unknown): SqError {
  if (error instanceof SqError) {
    error.message = redactSecrets(error.message)
    // The stack was written at construction, with the message as it was then (--verbose prints it).
    if (error.stack) error.stack = redactSecrets(error.stack)
    return error
  }
  const message = redactSecrets(error instanceof Error ? error.message : String(error))
  const code = (error as { code?: unknown } | null)?.code
  if (
    typeof code === 'string' &&
    /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|ECONNRESET|SQLITE_|28|3D|42)/.test(code)
  ) {
    return new StorageError(`database error: ${message}`, { cause: error })
  }
  return new SqError(message, { cause: error })
}

/**
 * The first line of a message, for one-line error output. A first line that only introduces what
 * follows — oclif's "The following errors occurred:", or "Parsing --flag" before an indented reason —
 * is joined with the next line, which says what was wrong.
 */
export function oneLine(message: string): string {
  const raw = message.split('\n').filter((l) => l.trim() !== '')
  if (raw.length === 0) return message.trim()
  const first = raw[0]!.trim()
  const next = raw[1]
  const introduces = first.endsWith(':') || (next !== undefined && /^\s/.test(next))
  return introduces && next !== undefined ? `${first.replace(/:?$/, ':')} ${next.trim()}` : first
}
