import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Pool } from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { queueCounts, type NewTask } from '../task-repository.js'
import { ANNOUNCE_QUEUED, announcedValues, type PgRun, pgTransaction } from './pg-connection.js'

/** The columns a copied task gives; the rest take their defaults (migration 007: now() for timestamps). */
const COPY = 'COPY sq_tasks (id, task, args, status, queue, priority, max_attempts) FROM STDIN'

/** Rows per write to the stream: the server inserts one piece while the next is encoded. */
const ROWS_PER_WRITE = 500

/** Backend.copyNewTasks: COPY, then their queues announced, in one transaction. */
export function copyNewTasks(
  pool: Pool,
  run: PgRun,
  rows: readonly NewTask[],
  beforeCommit?: Promise<void>,
): Promise<void> {
  return pgTransaction(pool, async (client) => {
    await pipeline(Readable.from(copyText(rows)), client.query(copyFrom(COPY)))
    await run(client, ANNOUNCE_QUEUED, announcedValues(queueCounts(rows)), 'announce_queued')
    await beforeCommit
  })
}

function* copyText(rows: readonly NewTask[]): Generator<string> {
  for (let i = 0; i < rows.length; i += ROWS_PER_WRITE) {
    let text = ''
    for (let j = i; j < Math.min(i + ROWS_PER_WRITE, rows.length); j++) {
      const r = rows[j]!
      text += `${r.id}\t${field(r.task)}\t${field(r.argsJson)}\tqueued\t${field(r.queue)}\t${r.priority}\t${r.maxAttempts}\n`
    }
    yield text
  }
}

const SPECIAL = /[\\\t\n\r]/
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }

/** A value as COPY's text format reads it: backslash, tab, newline and return escaped. */
const field = (value: string) => (SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!) : value)
