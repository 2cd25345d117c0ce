import os from 'node:os'

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]']

/** A host as the URL standard writes it: lower case, an IPv6 address in brackets. */
function normalHost(host: string): string | undefined {
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  return URL.canParse(`http://${bracketed}`) ? new URL(`http://${bracketed}`).hostname : undefined
}

/** The names a browser may use for the bound address; for all interfaces, the machine's names and addresses. */
function hostNames(bound: string): Set<string> {
  const host = normalHost(bound) ?? bound
  if (LOOPBACK.includes(host)) return new Set(LOOPBACK)
  if (host !== '0.0.0.0' && host !== '[::]') return new Set([host])
  const addresses = Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address))
  return new Set([...LOOPBACK, os.hostname().toLowerCase(), ...addresses.map((a) => normalHost(a) ?? a)])
}

/**
 * The Host check of `sq serve`, which defeats DNS rebinding (a rebound evil.example still sends its Host): a
 * refusal, or null when the header names the server with its port (none: 80) or a public origin.
 */
export function hostCheck(bound: string, publicUrls: string[]) {
  const names = hostNames(bound)
  // A reverse proxy passing the Host through sends each public origin's host as the URL writes it,
  // or with the scheme's port spelled out.
  const publics = new Set(
    publicUrls.flatMap((origin) => {
      const url = new URL(origin)
      return [url.host, `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`]
    }),
  )
  return (header: string | undefined, port: number): string | null => {
    if (header !== undefined && publics.has(header.toLowerCase())) return null
    // Strictly host[:port]: `new URL` alone would read `evil@127.0.0.1` as the host 127.0.0.1.
    const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(header ?? '')
    if (m !== null && names.has(normalHost(m[1]!) ?? '') && Number(m[2] ?? 80) === port) return null
    return `sq serve answers only for Host ${[...[...names].map((name) => `${name}:${port}`), ...publics].join(', ')}`
  }
}
