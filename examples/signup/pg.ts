// Signup on PostgreSQL with `pg`: the task is written on the request's client, inside its BEGIN … COMMIT.
//   SQ_DATABASE_URL=postgres://… node --import tsx pg.ts
import pg from 'pg'
import { createTask, openQueue } from 'sq-queue'
import { serve } from './http.js'

const url = process.env.SQ_DATABASE_URL
const queue = await openQueue({ db: url }) // migrates sq's tables, on its own connection, once
const pool = new pg.Pool({ connectionString: url })
await pool.query('create table if not exists users (id serial primary key, email text not null unique)')

serve(async (email, { failAfterEnqueue }) => {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const { rows } = await client.query('insert into users (email) values ($1) returning id', [email])
    const task = await createTask({ task: 'tasks#welcome', args: { email }, executor: client }, queue)
    if (failAfterEnqueue) throw new Error('signup failed after the enqueue')
    await client.query('COMMIT')
    return { user: rows[0].id, task }
  } catch (error) {
    await client.query('ROLLBACK')
    throw error
  } finally {
    client.release()
  }
})
