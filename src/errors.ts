import { redactSecrets } from './redact.js'

/** The SPEC's exit codes; 130 (128 + SIGINT) is what a shell reports of Ctrl-C, for `--wait` stopped by one. */
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

/** Waiting stopped before the task ended, at its timeout (`timedOut`) or Ctrl-C / a signal; the task left as is. */
export class WaitStoppedError extends SqError {
  override readonly exitCode: number
  readonly timedOut: boolean
  constructor(message: string, o: { interrupted: boolean }) {
    super(message)
    this.exitCode = o.interrupted ? EXIT.interrupted : EXIT.failure
    this.timedOut = !o.interrupted
  }
}

/** Anything thrown as an SqError safe to print (no password); a database driver's errors are StorageErrors. */
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
 * The first line of a message, joined with the next when it only introduces it (oclif's "The following
 * errors occurred:", or "Parsing --flag" before an indented reason).
 */
export function oneLine(message: string): string {
  const raw = message.split('\n').filter((l) => l.trim() !== '')
  if (raw.length === 0) return message.trim()
  const first = raw[0]!.trim()
  const next = raw[1]
  const introduces = first.endsWith(':') || (next !== undefined && /^\s/.test(next))
  return introduces && next !== undefined ? `${first.replace(/:?$/, ':')} ${next.trim()}` : first
}
