import type { PoolClient } from 'pg'
import { PRECOMPILED } from '../precompiled.js'

/** SQLSTATE of "cached plan must not change result type". */
const STALE_PREPARED_STATEMENT = '0A000'

/** A statement's name on the server: the same text always gets the same name in this process. */
const names = new Map<string, string>()
const nameOf = (text: string) => {
  let name = names.get(text)
  if (!name) names.set(text, (name = `sq_${names.size + 1}`))
  return name
}

/**
 * Keeps sq's precompiled statements (see precompiled.ts) prepared on this connection: a named
 * statement is parsed and planned once per connection, not at every call, which is most of a claim's
 * server time. Every other text goes through as it came.
 *
 * A migration run meanwhile by a newer sq may change a table's columns; the server then refuses a
 * prepared statement whose result that changes. The statement is prepared again under a new name (the
 * refusal happens before it does anything, so running it again is safe).
 */
export function keepPrecompiledPrepared(client: PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>
  let generation = 0
  client.query = ((text: unknown, ...rest: unknown[]) => {
    // Kysely calls query(text, values) and awaits it; the pool's query(text, values, callback). Any other
    // form is not one of sq's statements.
    const [values, callback] = rest
    const mine =
      typeof text === 'string' &&
      text.endsWith(PRECOMPILED) &&
      Array.isArray(values) &&
      (rest.length === 1 || (rest.length === 2 && typeof callback === 'function'))
    if (!mine) return query(text, ...rest)
    const run = () => query({ name: `${nameOf(text)}_${generation}`, text, values })
    const result = run().catch((error: unknown) => {
      if ((error as { code?: unknown })?.code !== STALE_PREPARED_STATEMENT) throw error
      generation++
      return run()
    })
    if (typeof callback !== 'function') return result
    result.then(
      (res) => callback(undefined, res),
      (error) => callback(error),
    )
    return undefined
  }) as typeof client.query
}
