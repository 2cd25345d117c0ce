import { parse as parsePgUrl } from 'pg-connection-string'

/**
 * Passwords are never printed (errors, logs, `sq top`, `--json`): every database URL sq opens registers
 * its password here, and every message that leaves sq passes redactSecrets, so even a driver error that
 * quotes the password comes out clean.
 */
const secrets = new Set<string>()

function registerSecret(secret: string | undefined | null): void {
  if (!secret) return
  secrets.add(secret)
  try {
    secrets.add(decodeURIComponent(secret))
  } catch {
    // a malformed escape: the raw form is registered already
  }
}

/**
 * Registers every password a URL carries, as each parser reads it: pg's (its `password` parameter wins
 * over the userinfo), the URL standard's, and any `…password=` parameter as written. What no parser
 * reads, redactSecrets' patterns still hide.
 */
export function registerUrlSecrets(url: string): void {
  try {
    registerSecret(parsePgUrl(url).password)
  } catch {
    // not a URL pg can read: it will be refused before it is used
  }
  if (URL.canParse(url)) registerSecret(new URL(url).password)
  // As written (registerSecret adds the decoded form), in any case: pg reads only `password`.
  for (const [, value] of url.matchAll(/password=([^&#]*)/gi)) registerSecret(value)
}

/** Characters that end a URL in running text (a URL holds them only percent-encoded). */
const END = String.raw`\s"'<>\x60`
/**
 * `scheme://user:PASSWORD@host`. The password runs to the LAST `@` of the URL: the URL standard (and
 * so pg) splits userinfo at the last `@`, so an unescaped `@` (or `/`) belongs to the password. A later
 * `@` in the path or query hides a little more than needed, never less.
 */
const USERINFO = new RegExp(`([a-z][a-z0-9+.-]*://[^${END}:/@]*):[^${END}]*@`, 'gi')
/**
 * `password=…` (`?password=`, `&sslpassword=`, `PASSWORD=`): up to the next parameter. Punctuation that
 * ends the URL in a sentence (`…?password=x: connect ECONNREFUSED`) is kept; a registered password
 * ending in such a character is replaced whole before this pattern runs.
 */
const PARAMETER = new RegExp(`(password=)[^${END}&#]*?(?=[:;,.)]*(?:[${END}&#]|$))`, 'gi')

/**
 * The one redaction of sq: hides passwords in URLs (in the userinfo or as a query parameter, in any
 * case, escaped or not) and every registered secret, wherever they appear in the text.
 */
export function redactSecrets(text: string): string {
  let out = text
  // Longest first, so a secret that contains another is replaced whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join('***')
  return out.replace(USERINFO, '$1:***@').replace(PARAMETER, '$1***')
}
