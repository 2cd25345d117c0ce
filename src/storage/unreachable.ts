/**
 * Is this error (or its cause) the database unreachable for now (refused, starting up, out of connections),
 * not what waiting cannot fix (a wrong password)? A worker started during a failover waits on the first.
 */
export function isUnreachable(error: unknown): boolean {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    const code = typeof e.code === 'string' ? e.code : ''
    if (TRANSIENT.test(code)) return true
    if (
      code === '' &&
      /Connection terminated|connection timeout|server closed the connection/i.test(String((e as Error).message))
    ) {
      return true
    }
  }
  return false
}

/** Node's network errors; SQLSTATE 08 connection exception, 57P01-3 shutting down, 53300 too many clients. */
const TRANSIENT = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|EPIPE)$|^(08|57P0[123]|53300)/
