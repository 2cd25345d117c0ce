import { migrateDatabase, pgOptions } from '../src/storage/open.js'
import { command } from './actions/io.js'
import { JSON_ONLY } from './flags.js'

export default command(JSON_ONLY, {
  summary: 'Create the database or bring its schema up to date, then exit (for deploy scripts)',
  description:
    'The other commands that write (enqueue, worker) do the same on first use; the commands that only read never create a database.',
  examples: ['<%= config.bin %> migrate --db postgres://app@db.internal/app', '<%= config.bin %> migrate --json'],
  async run(io, { flags }) {
    const settings = await io.resolveSettings(flags)
    const result = await migrateDatabase(settings.db, pgOptions(settings))
    if (!io.json) {
      const applied = result.applied.length
      io.log(
        applied === 0
          ? `${result.database} is up to date (${result.migration})`
          : `${result.database} migrated to ${result.migration} (${applied} migration${applied === 1 ? '' : 's'} applied)`,
      )
    }
    return result
  },
})
