import { CompiledQuery, type Kysely } from 'kysely'
import type { SqlRunner, SqlSpelling } from './backend.js'

/**
 * SQL written out (task-repository.ts), run through a Kysely handle: the backend's own, so that it
 * takes its turn, or a transaction's, so that it reads what the transaction wrote.
 */
export function kyselyRunner<DB>(spelling: SqlSpelling, db: Kysely<DB>): SqlRunner {
  return {
    spelling,
    query: async <R>(text: string, parameters: readonly unknown[]) =>
      (await db.executeQuery<R>(CompiledQuery.raw(text, [...parameters]))).rows as R[],
  }
}
