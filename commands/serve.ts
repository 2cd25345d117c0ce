import { UsageError } from '../src/errors.js'
import { createStatusServer } from '../src/http/status-server.js'
import { command } from './actions/io.js'
import { SERVE } from './flags.js'

export default command(SERVE, {
  summary: 'Serve the web dashboard, Prometheus metrics and the HTTP status view of tasks',
  description:
    'GET / is the dashboard (its data under /api/...), GET /metrics the Prometheus metrics, and GET /task?task_id=ID[&type=json] the ' +
    "django-simple-queue-style status view of one task. Read-only unless --allow-actions: then the dashboard can cancel and requeue tasks, retry a queue's failed tasks, purge old completed ones and pause and resume queues (POST only, CSRF-protected, each confirmed).",
  examples: [
    '<%= config.bin %> serve --port 8000',
    '<%= config.bin %> serve --allow-actions',
    '<%= config.bin %> serve --public-url https://sq.example.com   # behind a reverse proxy',
    'curl "http://127.0.0.1:8000/task?task_id=3f2a9c&type=json"',
    'curl http://127.0.0.1:8000/metrics',
  ],
  async run(io, { flags }) {
    // Node would bind '' to every interface, and no Host could then name it: every request got 421.
    if (flags.host.trim() === '')
      throw new UsageError('--host must name the address to bind (127.0.0.1, or 0.0.0.0 for every interface)')
    const queue = await io.openQueue(flags, { publicUrl: flags['public-url'] })
    const server = createStatusServer(queue, {
      host: flags.host,
      allowActions: flags['allow-actions'],
      publicUrls: queue.settings.publicUrl,
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(flags.port, flags.host, () => resolve())
    })
    const address = server.address()
    const port = typeof address === 'object' && address ? address.port : flags.port
    const host = flags.host.includes(':') ? `[${flags.host}]` : flags.host
    const mode = flags['allow-actions'] ? 'actions allowed' : 'read-only'
    io.log(
      `sq serve: dashboard http://${host}:${port}/ (${mode}; metrics /metrics; database ${queue.displayUrl}); Ctrl-C stops`,
    )
    await new Promise<void>((resolve) => {
      const stop = () => {
        server.close(() => resolve())
        // Open event streams (and idle keep-alive sockets) would hold close() until browsers leave.
        server.closeAllConnections()
      }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
  },
})
