import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { freePort } from '../../scripts/chaos/cluster.js'
import { waitFor } from './wait.js'

/** Debian's package installs it in /usr/sbin, often not on a user's PATH. */
const CANDIDATES = [
  process.env.SQ_TEST_PGBOUNCER,
  ...(process.env.PATH ?? '').split(path.delimiter).map((dir) => dir && path.join(dir, 'pgbouncer')),
  '/usr/sbin/pgbouncer',
  '/usr/local/sbin/pgbouncer',
]

/** The pgbouncer binary; a missing one fails the test (CI installs it: .ci/run). */
export function pgbouncerBinary(): string {
  const found = CANDIDATES.find((file) => file && fs.existsSync(file))
  if (!found) throw new Error('pgbouncer is not installed (apt-get install -y pgbouncer, or set SQ_TEST_PGBOUNCER)')
  return found
}

export interface PgBouncer {
  /** `target` (a postgres:// URL) with its host and port replaced by the bouncer's. */
  url(target: string): string
  /** The bouncer's log, for assertion messages. */
  log(): string
  stop(): Promise<void>
}

/**
 * A real PgBouncer on a spare port, in transaction mode with `poolSize` server connections per database,
 * in front of the server of PG_ADMIN_URL (trust auth); its files in a temp dir of its own.
 */
export async function startPgBouncer(server: string, poolSize: number): Promise<PgBouncer> {
  const binary = pgbouncerBinary()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-pgbouncer-'))
  const port = await freePort()
  const { hostname, port: serverPort } = new URL(server)
  fs.writeFileSync(path.join(dir, 'userlist.txt'), '"postgres" ""\n')
  fs.writeFileSync(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${hostname} port=${serverPort || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      `unix_socket_dir = ${dir}`,
      'auth_type = trust',
      `auth_file = ${dir}/userlist.txt`,
      'pool_mode = transaction',
      `default_pool_size = ${poolSize}`,
      'max_client_conn = 500',
      `logfile = ${dir}/pgbouncer.log`,
      '',
    ].join('\n'),
  )
  // PgBouncer refuses to run as root: as root (CI), it drops to nobody, who must reach its files.
  const asRoot = process.getuid?.() === 0
  if (asRoot) fs.chmodSync(dir, 0o777)
  const child = spawn(binary, [...(asRoot ? ['-u', 'nobody'] : []), path.join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()))
  const log = () => {
    const file = path.join(dir, 'pgbouncer.log')
    return `${stderr}${fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''}`
  }
  const url = (target: string) => {
    const u = new URL(target)
    u.hostname = '127.0.0.1'
    u.port = String(port)
    return u.href
  }
  const stop = async () => {
    child.kill('SIGINT')
    await exited
    fs.rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`pgbouncer exited at start: ${log()}`)
        const client = new pg.Client({ connectionString: url(server) })
        try {
          await client.connect()
          await client.query('select 1')
          return true
        } catch {
          return false
        } finally {
          await client.end().catch(() => {})
        }
      },
      10_000,
      () => `pgbouncer to answer on port ${port}: ${log()}`,
    )
  } catch (error) {
    await stop()
    throw error
  }
  return { url, log, stop }
}
