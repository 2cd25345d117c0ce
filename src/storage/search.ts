/**
 * What a search matches, in `sq list --search`, the dashboard and the library: a case-insensitive
 * substring of the id, task reference, key, args, error, output, or a running task's output chunks.
 * `%` and `_` are literal. Columns are cast to text: PostgreSQL's uuid and jsonb have no lower().
 */
export function searchSql(text: string, param: (value: string) => string): string {
  const needle = `%${likeEscape(text.toLowerCase())}%`
  // A parameter per use: SQLite's `?` are positional.
  const like = (expression: string) => `${expression} like ${param(needle)} escape '\\'`
  const columns = ['task', 'key', 'args', 'error', 'output'].map((c) => `lower(cast("sq_tasks"."${c}" as text))`)
  const matches = [`cast("sq_tasks"."id" as text)`, ...columns].map(like)
  const chunk = `select 1 from "sq_task_chunks" as "c" where "c"."task_id" = "sq_tasks"."id" and "c"."stream" = 'output'`
  return `(${matches.join(' or ')} or exists (${chunk} and ${like('lower("c"."data")')}))`
}

/** LIKE's own characters made literal, with `\` as the escape. */
export function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}
