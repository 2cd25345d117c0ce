/**
 * A task process gets SQ_DATABASE_URL without the password (a task may print its environment); the whole URL
 * comes over IPC, kept under a registered symbol so every copy of sq in the process sees it.
 */
const KEY = Symbol.for('sq.inheritedDatabaseUrl')

type Holder = { [KEY]?: { withoutPassword: string; url: string } }

/** A PostgreSQL URL without its password (userinfo or `…password=` parameter); any other URL as it is. */
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
