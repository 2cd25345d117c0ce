import { Flags } from '@oclif/core'
import { createStatusServer } from '../src/http/status-server.js'
import { BaseCommand } from './base.js'

export default class Serve extends BaseCommand {
  static override summary = 'Serve the read-only HTTP status view of tasks'
  static override description = 'GET /task?task_id=ID&type=json returns the record; without type=json, a live HTML status page.'
  static override examples = ['<%= config.bin %> serve --port 8000', 'curl "http://127.0.0.1:8000/task?task_id=3f2a9c&type=json"']
  static override flags = {
    port: Flags.integer({ char: 'p', description: 'port to listen on (0 picks a free one)', default: 8000, min: 0, max: 65535 }),
    host: Flags.string({
      description: 'address to bind; requests must name it as their Host (localhost too for 127.0.0.1). Others expose task data',
      default: '127.0.0.1',
    }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Serve)
    const queue = await this.openQueue(flags)
    const server = createStatusServer(queue, { host: flags.host })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(flags.port, flags.host, () => resolve())
    })
    const address = server.address()
    const port = typeof address === 'object' && address ? address.port : flags.port
    const host = flags.host.includes(':') ? `[${flags.host}]` : flags.host
    this.log(`sq serve: http://${host}:${port}/task?task_id=ID (database ${queue.displayUrl}); Ctrl-C stops`)
    await new Promise<void>((resolve) => {
      const stop = () => server.close(() => resolve())
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
  }
}
