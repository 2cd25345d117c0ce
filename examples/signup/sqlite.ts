// Signup on SQLite with better-sqlite3: the task is written on the app's own connection to the queue's
// file, inside its transaction; a worker's watch on the file sees the commit.
//   SQ_DATABASE_URL=./app.db node --import tsx sqlite.ts
import Database from 'better-sqlite3'
import { createTask, openQueue } from 'sq-queue'
import { serve } from './http.js'

const file = process.env.SQ_DATABASE_URL ?? './app.db'
const queue = await openQueue({ db: file })
const db = new Database(file, { timeout: 5000 })
db.pragma('journal_mode = WAL')
db.exec('create table if not exists users (id integer primary key, email text not null unique)')

serve(async (email, { failAfterEnqueue }) => {
  // db.transaction() takes no async function: BEGIN and COMMIT by hand around the await. The one
  // connection holds one transaction at a time: serialise requests, or open a connection per request.
  db.exec('BEGIN IMMEDIATE')
  try {
    const { lastInsertRowid } = db.prepare('insert into users (email) values (?)').run(email)
    const task = await createTask({ task: 'tasks#welcome', args: { email }, executor: db }, queue)
    if (failAfterEnqueue) throw new Error('signup failed after the enqueue')
    db.exec('COMMIT')
    return { user: Number(lastInsertRowid), task }
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK')
    throw error
  }
})
