import { parse as parsePgUrl } from 'pg-connection-string'

/** Every database URL sq opens registers its password here, and every message leaving sq passes redactSecrets. */
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

/** Registers every password of a URL as each parser reads it: pg's, the URL standard's, any `…password=` as written. */
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
 * `scheme://user:PASSWORD@host`, to the LAST `@`, where the URL standard (and pg) splits userinfo: an unescaped
 * `@` belongs to the password. An `@` in the path hides a little more than needed, never less.
 */
const USERINFO = new RegExp(`([a-z][a-z0-9+.-]*://[^${END}:/@]*):[^${END}]*@`, 'gi')
/**
 * `password=…` (`&sslpassword=`, any case) up to the next parameter, keeping punctuation that ends a sentence
 * (`…?password=x: connect`); a registered password ending in one is replaced whole before.
 */
const PARAMETER = new RegExp(`(password=)[^${END}&#]*?(?=[:;,.)]*(?:[${END}&#]|$))`, 'gi')

/** The one redaction of sq: passwords in URLs (userinfo or parameter) and every registered secret. */
export function redactSecrets(text: string): string {
  let out = text
  // Longest first, so a secret that contains another is replaced whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join('***')
  return out.replace(USERINFO, '$1:***@').replace(PARAMETER, '$1***')
}
