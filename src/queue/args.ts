import type { Readable } from 'node:stream'
import { UsageError } from '../errors.js'
import { readInput } from '../read-limited.js'
import type { TaskArgs } from '../types.js'

export function isPlainObject(value: unknown): value is TaskArgs {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** What a value that is not a plain object is, for messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object'
    ? `a ${(value as object).constructor?.name ?? 'non-plain'} object`
    : `a ${typeof value}`
}

/** How deep args may nest (the object is level 1): ~4,000 levels overflow JSON.stringify's stack. */
export const MAX_ARGS_DEPTH = 64

/** Whether objects and arrays nest in `value` more than `limit` levels; stops at the limit (any depth is safe). */
export function nestsDeeper(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false
  if (limit <= 0) return true
  for (const inner of Object.values(value)) if (nestsDeeper(inner, limit - 1)) return true
  return false
}

const tooDeep = `task args nest deeper than ${MAX_ARGS_DEPTH} levels of objects and arrays (the limit)`

/** Args as JSON text: a TypeError for anything but a plain object, a UsageError over the size or depth limits. */
export function serializeArgs(args: unknown, maxArgsSize: number): string {
  if (!isPlainObject(args)) throw new TypeError(`task args must be a plain object, got ${describe(args)}`)
  let json: string
  try {
    json = JSON.stringify(args)
  } catch (error) {
    // A stack overflow (RangeError), not a cycle (TypeError), is args too deep.
    if (error instanceof RangeError && nestsDeeper(args, MAX_ARGS_DEPTH)) throw new UsageError(tooDeep)
    throw new TypeError(`task args cannot be serialised as JSON: ${(error as Error).message}`)
  }
  // Each level is at least two characters of JSON: short args cannot be too deep (a bulk enqueue has many).
  if (json.length > 2 * MAX_ARGS_DEPTH && nestsDeeper(args, MAX_ARGS_DEPTH)) throw new UsageError(tooDeep)
  // A UTF-16 code unit is at most 3 bytes of UTF-8: short args need no count (a bulk enqueue has many).
  if (json.length * 3 > maxArgsSize) {
    const size = Buffer.byteLength(json)
    if (size > maxArgsSize) {
      throw new UsageError(
        `task args are ${size} bytes of JSON, over the limit of ${maxArgsSize} (maxArgsSize / SQ_MAX_ARGS_SIZE)`,
      )
    }
  }
  return json
}

/** Stored args text as the object, checked as enqueue checks it; the text is not quoted (args may hold secrets). */
export function parseStoredArgs(text: string): TaskArgs {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    const why = contentFreeReason((error as Error).message)
    throw new TypeError(`task args are not valid JSON${why && `: ${why}`}`)
  }
  if (!isPlainObject(value)) throw new TypeError(`task args must be a JSON object, got ${describe(value)}`)
  if (nestsDeeper(value, MAX_ARGS_DEPTH)) throw new TypeError(tooDeep)
  return value
}

/** `--args` (`'<json>'`, `@file.json` or `-` for stdin) and `--arg key=value` pairs as one object. */
export async function parseCliArgs(
  argsFlag: string | undefined,
  pairs: string[],
  from: { stdin: () => Readable; maxArgsSize: number },
): Promise<TaskArgs> {
  let base: TaskArgs = {}
  if (argsFlag !== undefined) {
    const inline = argsFlag !== '-' && !argsFlag.startsWith('@')
    const source = argsFlag === '-' ? 'stdin' : argsFlag.slice(1)
    const text = inline
      ? argsFlag
      : await readInput(argsFlag === '-' ? '-' : source, {
          stdin: from.stdin,
          maxBytes: from.maxArgsSize,
          flag: `--args ${argsFlag}`,
          over: `--args from ${source} is over the limit of ${from.maxArgsSize} bytes (maxArgsSize / SQ_MAX_ARGS_SIZE)`,
        })
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      // Typed text may be quoted back; a file's content (`--args @/etc/shadow`) is not, only where parsing stopped.
      const why = inline ? (error as Error).message : contentFreeReason((error as Error).message)
      throw new UsageError(`--args${inline ? '' : ` from ${source}`} is not valid JSON${why && `: ${why}`}`)
    }
    if (!isPlainObject(value))
      throw new UsageError(`--args${inline ? '' : ` from ${source}`} must be a JSON object, got ${describe(value)}`)
    base = value
  }
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--arg "${pair}" must be key=value`)
    const key = pair.slice(0, eq)
    const raw = pair.slice(eq + 1)
    let value: unknown = raw
    try {
      value = JSON.parse(raw)
    } catch {
      // not JSON: kept as the string it is
    }
    // A number that would not read back as typed (12345678901234567890, 1.10) stays the string typed.
    if (typeof value === 'number' && String(value) !== raw.trim()) value = raw
    // defineProperty, not `base[key] =`: a key like __proto__ must become an arg, not a prototype.
    Object.defineProperty(base, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return base
}

/** Where JSON.parse stopped, without the excerpt of the text V8 quotes in some of its messages. */
function contentFreeReason(message: string): string {
  if (/unexpected end of JSON input/i.test(message)) return 'it ends too early'
  return /at position \d+(?: \(line \d+ column \d+\))?/.exec(message)?.[0] ?? ''
}
