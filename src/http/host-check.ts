import os from 'node:os'

/**
 * The Host header check of `sq serve`. Checking the Host header defeats DNS rebinding: a page of
 * evil.example whose name is rebound to 127.0.0.1 still sends `Host: evil.example`.
 */

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]']

/** A host as the URL standard writes it: lower case, an IPv6 address in brackets. */
function normalHost(host: string): string | undefined {
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  return URL.canParse(`http://${bracketed}`) ? new URL(`http://${bracketed}`).hostname : undefined
}

/**
 * The names a browser may use to reach the server, judged from the address it is bound to. Bound to
 * all interfaces, the machine's own names and addresses.
 */
export function hostNames(bound: string): Set<string> {
  const host = normalHost(bound) ?? bound
  if (LOOPBACK.includes(host)) return new Set(LOOPBACK)
  if (host !== '0.0.0.0' && host !== '[::]') return new Set([host])
  const addresses = Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address))
  return new Set([...LOOPBACK, os.hostname().toLowerCase(), ...addresses.map((a) => normalHost(a) ?? a)])
}

/**
 * The Host headers a reverse proxy passing the Host through sends for each public origin
 * (`https://sq.example.com`): its host as the URL writes it, and with the scheme's port spelled out.
 */
export function publicHosts(origins: string[]): Set<string> {
  return new Set(
    origins.flatMap((origin) => {
      const url = new URL(origin)
      const port = url.port || (url.protocol === 'https:' ? '443' : '80')
      return [url.host, `${url.hostname}:${port}`]
    }),
  )
}

/** Is `Host: header` one of `names` with the server's port (no port means 80, as HTTP says)? */
export function hostAllowed(header: string | undefined, names: Set<string>, port: number, publics: Set<string>) {
  if (header !== undefined && publics.has(header.toLowerCase())) return true
  // Strictly host[:port]: `new URL` alone would read `evil@127.0.0.1` as the host 127.0.0.1.
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(header ?? '')
  return m !== null && names.has(normalHost(m[1]!) ?? '') && Number(m[2] ?? 80) === port
}
