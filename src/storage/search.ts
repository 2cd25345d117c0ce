/**
 * What a search matches, the same in `sq list --search`, the dashboard and the library: a
 * case-insensitive substring of the id, the task reference, the key (a schedule's tasks carry
 * `schedule:NAME@SLOT`), the args, the error or the output — the output stored at the end of a run, or
 * a running task's output chunks as they arrive. `%` and `_` are literal.
 *
 * Written once as SQL parts, the needle (searchNeedle) going between each two, for the query written out
 * (task-repository.ts) and the one built with Kysely (dashboard-repository.ts). Columns are cast to
 * text: PostgreSQL's uuid and jsonb have no lower(); SQLite's are text already.
 */
export const SEARCH_SQL: readonly string[] = [
  `(cast("sq_tasks"."id" as text) like `,
  ` escape '\\' or lower("sq_tasks"."task") like `,
  ` escape '\\' or lower("sq_tasks"."key") like `,
  ` escape '\\' or lower(cast("sq_tasks"."args" as text)) like `,
  ` escape '\\' or lower("sq_tasks"."error") like `,
  ` escape '\\' or lower("sq_tasks"."output") like `,
  ` escape '\\' or exists (select 1 from "sq_task_chunks" as "c" where "c"."task_id" = "sq_tasks"."id" and "c"."stream" = 'output' and lower("c"."data") like `,
  ` escape '\\'))`,
]

/** LIKE's own characters made literal, with `\` as the escape. */
export function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}

/** The LIKE pattern a search text becomes: any case, anywhere in the column. */
export function searchNeedle(text: string): string {
  return `%${likeEscape(text.toLowerCase())}%`
}

/** The predicate as SQL text; `param` adds the needle as a parameter (once per use: SQLite's `?` are positional). */
export function searchSql(text: string, param: (value: string) => string): string {
  const needle = searchNeedle(text)
  return SEARCH_SQL.map((part, i) => (i === 0 ? part : param(needle) + part)).join('')
}
