import fs from 'node:fs'
import { UsageError } from '../errors.js'
import type { TaskArgs } from '../types.js'

export function isPlainObject(value: unknown): value is TaskArgs {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? `a ${(value as object).constructor?.name ?? 'non-plain'} object` : `a ${typeof value}`
}

/**
 * The JSON text of an args object, checked as `createTask` must: a TypeError for anything but a plain
 * object (or what JSON cannot hold), a UsageError over `maxArgsSize` bytes.
 */
export function serializeArgs(args: unknown, maxArgsSize: number): string {
  if (!isPlainObject(args)) throw new TypeError(`task args must be a plain object, got ${describe(args)}`)
  let json: string
  try {
    json = JSON.stringify(args)
  } catch (error) {
    throw new TypeError(`task args cannot be serialised as JSON: ${(error as Error).message}`)
  }
  const size = Buffer.byteLength(json)
  if (size > maxArgsSize) {
    throw new UsageError(`task args are ${size} bytes of JSON, over the limit of ${maxArgsSize} (maxArgsSize / SQ_MAX_ARGS_SIZE)`)
  }
  return json
}

/**
 * Reads `--args` (`'<json>'`, `@file.json` or `-` for stdin) and `--arg key=value` pairs into one
 * object; a value of `--arg` is parsed as JSON when it parses, else kept as a string.
 */
export function parseCliArgs(argsFlag: string | undefined, pairs: string[], readStdin: () => string): TaskArgs {
  let base: TaskArgs = {}
  if (argsFlag !== undefined) {
    let text: string
    let source: string
    if (argsFlag === '-') {
      text = readStdin()
      source = 'stdin'
    } else if (argsFlag.startsWith('@')) {
      source = argsFlag.slice(1)
      try {
        text = fs.readFileSync(source, 'utf8')
      } catch (error) {
        throw new UsageError(`--args ${argsFlag}: cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
      }
    } else {
      text = argsFlag
      source = ''
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      throw new UsageError(`--args${source && ` from ${source}`} is not valid JSON: ${(error as Error).message}`)
    }
    if (!isPlainObject(value)) throw new UsageError(`--args${source && ` from ${source}`} must be a JSON object, got ${describe(value)}`)
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
    // defineProperty, not `base[key] =`: a key like __proto__ must become an arg, not a prototype.
    Object.defineProperty(base, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return base
}
