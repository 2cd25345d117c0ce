import type { Progress } from '../types.js'

/** How the values a task returns, yields and throws become what is stored. */

/** A thrown value as the task's `error`: the message and stack trace of an Error, else its JSON. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    return error.stack?.includes(error.message) ? error.stack : `${error.name}: ${error.message}\n${error.stack ?? ''}`
  }
  try {
    return `Thrown value: ${JSON.stringify(error)}`
  } catch {
    return `Thrown value: ${String(error)}`
  }
}

/** A task's return value (or a yield) as stored output: strings as they are, nothing for undefined/null, else JSON. */
export function toOutput(value: unknown): string | null {
  if (value === undefined || value === null) return null
  if (typeof value === 'string') return value
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch (error) {
    throw new TypeError(`Task result cannot be serialised as JSON: ${(error as Error).message}`)
  }
  if (json === undefined) throw new TypeError(`Task result cannot be serialised as JSON: a ${typeof value}`)
  return json
}

/** A yield of `{ progress: { current, total, message } }`: structured progress, not output. */
export function isProgress(value: unknown): value is { progress: Progress } {
  return (
    typeof value === 'object' &&
    value !== null &&
    'progress' in value &&
    typeof (value as { progress: unknown }).progress === 'object'
  )
}

/** What a generator task (sync or async) returns when called. */
export function isIterator(value: unknown): value is AsyncIterator<unknown> | Iterator<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Iterator<unknown>).next === 'function' &&
    (Symbol.asyncIterator in value || Symbol.iterator in value)
  )
}
