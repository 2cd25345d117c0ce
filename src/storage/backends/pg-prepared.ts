import type { Client, Pool, PoolClient } from 'pg'
import { StorageError } from '../../errors.js'

/** SQLSTATE of "cached plan must not change result type". */
const STALE_PREPARED_STATEMENT = '0A000'

/** Each name's text: a name is prepared once per connection, so it must never mean two texts. */
const texts = new Map<string, string>()
/** Part of every name on the server; a new one prepares every statement anew (see pgQuery). */
let generation = 0

/**
 * One statement on the pool or a client (SqlRunner.query), a named one prepared per connection. One a
 * newer sq's migration changed the result of is refused before it does anything: prepared again under
 * a new name (in a transaction the refusal aborted, the caller writes again, as after any outage).
 */
export async function pgQuery<R>(
  on: Pool | Client,
  text: string,
  values: readonly unknown[],
  name?: string,
): Promise<R[]> {
  if (name === undefined) return (await on.query(text, [...values])).rows as R[]
  const known = texts.get(name)
  if (known === undefined) texts.set(name, text)
  else if (known !== text) throw new Error(`bug: the prepared statement ${name} was given a second text`)
  const run = async () => (await on.query({ name: `sq_${name}_${generation}`, text, values: [...values] })).rows as R[]
  try {
    return await run()
  } catch (error) {
    if ((error as { code?: unknown })?.code !== STALE_PREPARED_STATEMENT) throw error
    generation++
    return run()
  }
}

/** `fn` in a transaction on a client of the pool; one that cannot roll back is discarded. */
export async function pgTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let result: T
  try {
    await client.query('begin')
    result = await fn(client)
    // An error the callback caught left the transaction aborted: its COMMIT says ROLLBACK.
    if ((await client.query('commit')).command === 'ROLLBACK') throw new StorageError('the transaction was rolled back')
  } catch (error) {
    const healthy = await client.query('rollback').then(
      () => true,
      () => false,
    )
    client.release(!healthy)
    throw error
  }
  client.release()
  return result
}
