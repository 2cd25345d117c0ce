import { execFile } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import { promisify } from 'node:util'

/**
 * A PostgreSQL cluster of its own, on a free port, for whatever must stop or restart the server (the
 * chaos soak, test/worker/pg-restart.test.ts): the shared cluster on 5432 serves every other test and
 * is never touched. Created with Debian's pg_createcluster (trust auth, fsync off: only the server is
 * ever crashed here, never the machine), driven with pg_ctlcluster, dropped by `drop()`.
 */

const run = promisify(execFile)

/** How `pg_ctlcluster stop/restart` ends the server: `fast` closes sessions, `immediate` crashes it. */
export type StopMode = 'fast' | 'immediate'

export class PgCluster {
  private constructor(
    readonly version: string,
    readonly name: string,
    readonly port: number,
  ) {}

  /**
   * Creates and starts a cluster named `<prefix><pid>` (a number appended when that name is taken);
   * `settings` (name=value) come after the defaults, and so win.
   */
  static async create(prefix = 'sqscratch', settings: string[] = []): Promise<PgCluster> {
    const version = installedVersion()
    const port = await freePort()
    let name = `${prefix}${process.pid}`
    for (let n = 2; fs.existsSync(`/etc/postgresql/${version}/${name}`); n++) name = `${prefix}${process.pid}x${n}`
    // --auth=trust goes to initdb, which then writes pg_hba.conf itself: trust for local and host.
    await run('pg_createcluster', [
      ...['-p', String(port), '-o', 'fsync=off', '-o', 'full_page_writes=off', '-o', 'max_connections=200'],
      ...['-o', 'shared_buffers=32MB', '-o', 'log_min_messages=fatal'],
      ...settings.flatMap((setting) => ['-o', setting]),
      version,
      name,
      '--',
      '--auth=trust',
    ])
    const cluster = new PgCluster(version, name, port)
    await cluster.start()
    return cluster
  }

  /** A connection URL to one of the cluster's databases. */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`
  }

  async start(): Promise<void> {
    await this.ctl('start')
    await this.waitReady()
  }

  async stop(mode: StopMode = 'fast'): Promise<void> {
    await this.ctl('stop', '-m', mode)
  }

  async restart(mode: StopMode = 'fast'): Promise<void> {
    await this.ctl('restart', '-m', mode)
    await this.waitReady()
  }

  /** Does the server accept connections now? */
  async ready(): Promise<boolean> {
    try {
      await run('pg_isready', ['-h', '127.0.0.1', '-p', String(this.port), '-q'])
      return true
    } catch {
      return false
    }
  }

  async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!(await this.ready())) {
      if (Date.now() > deadline) throw new Error(`PostgreSQL cluster ${this.name} did not start in ${timeoutMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  /** Stops the server at once and removes the cluster; safe to call twice. */
  async drop(): Promise<void> {
    if (!fs.existsSync(`/etc/postgresql/${this.version}/${this.name}`)) return
    await run('pg_dropcluster', ['--stop', this.version, this.name]).catch(async () => {
      await this.stop('immediate').catch(() => {})
      await run('pg_dropcluster', [this.version, this.name])
    })
  }

  private async ctl(...args: string[]): Promise<void> {
    const [action, ...rest] = args
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', this.version, this.name, action!, ...rest])
  }
}

/** The installed PostgreSQL major version: the newest one under /etc/postgresql. */
function installedVersion(): string {
  const versions = fs.existsSync('/etc/postgresql') ? fs.readdirSync('/etc/postgresql') : []
  const newest = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))[0]
  if (!newest) throw new Error('no PostgreSQL installation under /etc/postgresql (pg_createcluster is needed)')
  return newest
}

/** A TCP port nobody listens on right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}
