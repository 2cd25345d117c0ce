/**
 * Passwords must never be printed: not in errors, logs, `sq top` or `--json`. Every database URL that
 * sq opens registers its password here, and every message that leaves sq passes through
 * `redactSecrets`, so even a driver error that quotes the URL comes out clean.
 */
const secrets = new Set<string>()

export function registerSecret(secret: string | undefined): void {
  if (secret) {
    secrets.add(secret)
    try {
      secrets.add(decodeURIComponent(secret))
    } catch {
      // a malformed escape: the raw form is registered already
    }
  }
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/i, '$1:***@')
}

export function redactSecrets(text: string): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/gi, '$1:***@')
  for (const secret of secrets) {
    if (secret.length >= 1) out = out.split(secret).join('***')
  }
  return out
}
