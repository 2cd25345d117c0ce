import assert from 'node:assert/strict'
import pg from 'pg'
import { waitFor } from './wait.js'

/**
 * Asserts that a task enqueued in a transaction is announced on `sq_queued` at its commit and not
 * before (what wakes an idle PostgreSQL worker): `enqueue` runs after BEGIN on `client`, into `queue`.
 */
export async function assertAnnouncedAtCommit(
  url: string,
  client: { query(text: string): Promise<unknown> },
  queue: string,
  enqueue: () => Promise<unknown>,
): Promise<void> {
  const listener = new pg.Client({ connectionString: url })
  await listener.connect()
  const heard: string[] = []
  listener.on('notification', (n) => heard.push(String(n.payload)))
  await listener.query('LISTEN sq_queued')
  try {
    await client.query('BEGIN')
    await enqueue()
    await new Promise((r) => setTimeout(r, 200))
    assert.equal(heard.length, 0, 'nothing announced before the commit')
    await client.query('COMMIT')
    await waitFor(
      () => heard.some((payload) => payload.split(' ')[0] === queue),
      5000,
      `the notification of queue ${queue}`,
    )
  } finally {
    await listener.end()
  }
}
