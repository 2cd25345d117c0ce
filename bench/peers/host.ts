/**
 * The process a peer's worker runs in: `node host.mjs <peer> <concurrency> <config JSON>` (bundled by
 * launch.ts, so no TypeScript loader sits in its memory). Says `ready` once the worker is started,
 * answers `report`, and on `stop` stops the worker gracefully and exits.
 */
import { serveBullmq } from './bullmq.js'
import { serveGraphileWorker } from './graphile-worker.js'
import type { FromHost, HostConfig, PeerId, Served, ToHost } from './peer.js'
import { servePgBoss } from './pg-boss.js'

const SERVERS: Record<PeerId, (config: HostConfig, concurrency: number) => Promise<Served>> = {
  'graphile-worker': serveGraphileWorker,
  'pg-boss': servePgBoss,
  bullmq: serveBullmq,
}

const [name = '', concurrency = '1', config = '{}'] = process.argv.slice(2)
const serve = SERVERS[name as PeerId] as (typeof SERVERS)[PeerId] | undefined
if (!serve) throw new Error(`unknown peer ${name}`)
const send = (message: FromHost) => process.send!(message)
const served = await serve(JSON.parse(config) as HostConfig, Number(concurrency))

process.on('message', (message: ToHost) => {
  if (message.type === 'report') {
    send({ type: 'report', report: served.report?.(message.jobs) ?? { completed: 0, lastPickup: null } })
  } else if (message.type === 'stop') {
    void served.stop().then(() => {
      send({ type: 'stopped' })
      process.disconnect()
      // A peer may leave a timer or socket behind; the host has nothing more to do.
      setTimeout(() => process.exit(0), 100).unref()
    })
  }
})
send({ type: 'ready' })
