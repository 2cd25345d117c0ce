import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { createTestDatabase, DIALECTS, describeOn, type TestDatabase } from '../helpers/db.js'
import { assertOneLineError, sq, sqJson, sqOk, writeTaskModule } from '../helpers/sq.js'

for (const dialect of DIALECTS) {
  describeOn(dialect, `sq schedules (${dialect})`, function () {
    this.timeout(60_000)
    let db: TestDatabase
    before(async () => {
      db = await createTestDatabase(dialect)
      writeTaskModule(db.dir)
      // As a deploy does: `sq schedules` only reads, and creates no database (SPEC §5).
      await sqOk(db, ['migrate'])
    })
    after(async () => db?.drop())
    const config = (value: unknown) => fs.writeFileSync(path.join(db.dir, 'sq.config.json'), JSON.stringify(value))

    it('lists the schedules with their next run before any worker ran them', async () => {
      config({
        schedules: [
          {
            name: 'nightly',
            cron: '30 2 * * *',
            task: 'tasks#hello',
            args: { name: 'night' },
            queue: 'reports',
            timezone: 'Europe/Paris',
          },
        ],
      })
      const [s] = await sqJson<Array<Record<string, unknown>>>(db, ['schedules'])
      assert.deepEqual(
        { ...s, next_run: undefined },
        {
          name: 'nightly',
          cron: '30 2 * * *',
          timezone: 'Europe/Paris',
          task: 'tasks#hello',
          args: { name: 'night' },
          queue: 'reports',
          priority: 0,
          catch_up: 'latest',
          last_run: null,
          last_task_id: null,
          next_run: undefined,
        },
      )
      // 02:30 in Paris is 01:30 UTC in winter, 00:30 in summer; and it is in the coming day.
      const next = Date.parse(String(s!.next_run))
      assert.match(String(s!.next_run), /T0[01]:30:00\.000Z$/)
      assert.ok(next > Date.now() - 60_000 && next < Date.now() + 25 * 3600_000, String(s!.next_run))
      const text = await sqOk(db, ['schedules'])
      assert.match(text, /^NAME\s+CRON\s+TASK\s+QUEUE\s+LAST RUN\s+LAST TASK\s+NEXT RUN$/m)
      assert.match(text, /^nightly\s+30 2 \* \* \* \(Europe\/Paris\)\s+tasks#hello\s+reports\s+-\s+-\s+\d{4}-/m)
      config({})
      assert.deepEqual(await sqJson(db, ['schedules']), [])
    })

    it('a malformed schedule is a config error that names it and the problem, for every command', async () => {
      config({ schedules: [{ name: 'broken', cron: '*/5 * * *', task: 'tasks#hello' }] })
      for (const args of [['schedules'], ['worker', '--burst'], ['list']]) {
        const r = await sq(db, args)
        assertOneLineError(r, 2, /^sq: schedule "broken" from .*sq\.config\.json: cron "\*\/5 \* \* \*" is malformed/)
      }
      config({
        schedules: [
          { name: 'a', cron: '@daily', task: 'tasks#hello' },
          { name: 'a', cron: '@hourly', task: 'tasks#hello' },
        ],
      })
      assertOneLineError(await sq(db, ['schedules']), 2, /^sq: schedule "a" from .* is defined twice/)
      config({ schedules: [{ name: 'z', cron: '@daily', task: 'tasks#hello', timezone: 'Nowhere/Land' }] })
      assertOneLineError(await sq(db, ['worker', '--burst']), 2, /^sq: schedule "z" .*unknown timezone "Nowhere\/Land"/)
      config({})
    })
  })
}
