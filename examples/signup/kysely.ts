// Signup on PostgreSQL with Kysely: the task is written in the request's Kysely transaction.
//   SQ_DATABASE_URL=postgres://… node --import tsx kysely.ts
import { type Generated, Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { createTask, openQueue } from 'sq-queue'
import { serve } from './http.js'

const url = process.env.SQ_DATABASE_URL
const queue = await openQueue({ db: url })
const db = new Kysely<{ users: { id: Generated<number>; email: string } }>({
  dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }),
})
await sql`create table if not exists users (id serial primary key, email text not null unique)`.execute(db)

serve((email, { failAfterEnqueue }) =>
  db.transaction().execute(async (trx) => {
    const { id } = await trx.insertInto('users').values({ email }).returning('id').executeTakeFirstOrThrow()
    const task = await createTask({ task: 'tasks#welcome', args: { email }, executor: trx }, queue)
    if (failAfterEnqueue) throw new Error('signup failed after the enqueue')
    return { user: id, task }
  }),
)
