import { NotFoundError, UsageError } from '../errors.js'
import type { SqlRunner } from '../storage/backend.js'
import { findByIdPrefix } from '../storage/task-repository.js'

const FULL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const ID_PREFIX = /^[0-9a-f-]{6,36}$/i

/** A full id from a full id or a unique prefix of at least 6 characters. */
export async function resolveTaskId(runner: SqlRunner, idOrPrefix: string): Promise<string> {
  const text = idOrPrefix.trim().toLowerCase()
  if (FULL_ID.test(text)) return text
  if (!ID_PREFIX.test(text)) {
    throw new UsageError(
      `malformed task id "${idOrPrefix}": give a task id or a prefix of at least 6 of its characters`,
    )
  }
  const matches = await findByIdPrefix(runner, text)
  if (matches.length === 0) throw new NotFoundError(`no task with id ${idOrPrefix}`)
  if (matches.length > 1) throw new UsageError(`task id prefix ${idOrPrefix} is ambiguous: give more characters`)
  return matches[0]!
}
