/** Starts a peer's worker in its own process (host.ts) and talks to it. */
import { fork } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import type { FromHost, HostConfig, HostReport, PeerId, ToHost } from './peer.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
// Inside the repository, so the bundle's bare imports resolve to its node_modules.
const BUNDLE = path.resolve(HERE, '../../node_modules/.cache/sq-bench/host.mjs')
let bundled: Promise<unknown> | undefined

export interface Host {
  pid: number
  /** Completed jobs and the latest pickup; with `jobs`, every completed job's start and end too. */
  report(jobs?: boolean): Promise<HostReport>
  stop(): Promise<void>
}

/**
 * Runs the host as plain JavaScript: under a TypeScript loader its memory would include the loader's,
 * and the RSS comparison with `sq worker` (built JavaScript) would be unfair to the peer.
 */
export async function startHost(peer: PeerId, concurrency: number, config: HostConfig): Promise<Host> {
  await (bundled ??= build({
    entryPoints: [path.join(HERE, 'host.ts')],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  }))
  const child = fork(BUNDLE, [peer, String(concurrency), JSON.stringify(config)], {
    execArgv: [],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)))
  const exited = once(child, 'exit').then(([code]) => {
    const last = stderr.trim().split('\n').slice(-3).join(' | ')
    throw new Error(`${peer} worker exited (${code}): ${last || 'no message'}`)
  })
  exited.catch(() => {})
  const next = (type: FromHost['type']) =>
    Promise.race([
      new Promise<FromHost>((resolve) => {
        const on = (message: FromHost) => {
          if (message.type !== type) return
          child.off('message', on)
          resolve(message)
        }
        child.on('message', on)
      }),
      exited,
    ])
  const send = (message: ToHost) => child.send(message)

  await next('ready')
  return {
    pid: child.pid!,
    async report(jobs = false) {
      const reply = next('report')
      send({ type: 'report', jobs })
      const message = await reply
      if (message.type !== 'report') throw new Error('unexpected reply from the host')
      return message.report
    },
    async stop() {
      if (child.exitCode !== null) return
      const gone = once(child, 'exit')
      send({ type: 'stop' })
      await gone
    },
  }
}
