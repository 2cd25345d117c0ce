import { migrateDatabase, type MigrateResult } from '../src/storage/open.js'
import { BaseCommand } from './base.js'

export default class Migrate extends BaseCommand {
  static override summary = 'Create the database or bring its schema up to date, then exit (for deploy scripts)'
  static override description =
    'The other commands that write (enqueue, worker) do the same on first use; the commands that only read never create a database.'
  static override examples = [
    '<%= config.bin %> migrate --db postgres://app@db.internal/app',
    '<%= config.bin %> migrate --json',
  ]
  static override enableJsonFlag = true

  async run(): Promise<MigrateResult> {
    const { flags } = await this.parse(Migrate)
    const result = await migrateDatabase((await this.resolveSettings(flags)).db)
    if (!this.jsonEnabled()) {
      const applied = result.applied.length
      this.log(
        applied === 0
          ? `${result.database} is up to date (${result.migration})`
          : `${result.database} migrated to ${result.migration} (${applied} migration${applied === 1 ? '' : 's'} applied)`,
      )
    }
    return result
  }
}
