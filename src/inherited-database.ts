/**
 * A worker's database URL, as its task processes get it. Their environment holds it without the
 * password (SQ_DATABASE_URL): a task that prints or stores its environment, or a program it starts,
 * would otherwise spread it — into the task's output, shown by `sq show` and the dashboard. The whole
 * URL comes over the IPC channel instead, and `createTask` inside a task finds it here. It is kept on
 * globalThis under a registered symbol, so that every copy of sq loaded in the process — the task
 * process's own, and the one a task imports — sees the same.
 */
const KEY = Symbol.for('sq.inheritedDatabaseUrl')

type Holder = { [KEY]?: { withoutPassword: string; url: string } }

/**
 * A PostgreSQL URL without its password (in the userinfo or as a `…password=` parameter); any other
 * URL, or one without a password, as it is.
 */
export function withoutPassword(url: string): string {
  const text = url.trim()
  if (!/^postgres(ql)?:\/\//i.test(text) || !URL.canParse(text)) return url
  const parsed = new URL(text)
  const parameters = [...parsed.searchParams.keys()].filter((key) => /password$/i.test(key))
  if (parsed.password === '' && parameters.length === 0) return url
  parsed.password = ''
  for (const key of parameters) parsed.searchParams.delete(key)
  return parsed.href
}

/** In a task process: the worker's whole database URL, as the worker handed it over. */
export function inheritDatabaseUrl(url: string): void {
  ;(globalThis as Holder)[KEY] = { withoutPassword: withoutPassword(url), url }
}

/** The inherited URL when `url` is it without the password (as SQ_DATABASE_URL gives it), else `url`. */
export function withInheritedPassword(url: string): string {
  const inherited = (globalThis as Holder)[KEY]
  return inherited && inherited.withoutPassword === url ? inherited.url : url
}
