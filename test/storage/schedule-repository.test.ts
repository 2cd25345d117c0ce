import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { fireSchedule, scheduleRows, slotKey, type Plan } from '../../src/storage/schedule-repository.js'
import type { Backend } from '../../src/storage/backend.js'
import { DIALECTS, describeOn, openTestDatabase, useTestDatabase } from '../helpers/db.js'

/** A plan that fires one slot, `slot`, once it is after the schedule's last one. */
const fireOnce =
  (slot: number): Plan =>
  (sinceMs) =>
    slot > sinceMs
      ? {
          fire: [
            {
              slot,
              task: { id: randomUUID(), task: 'tasks#hello', argsJson: '{"n":1}', queue: 'default', priority: 3 },
            },
          ],
          last: slot,
        }
      : { fire: [], last: null }

for (const dialect of DIALECTS) {
  describeOn(dialect, `schedule state (${dialect})`, function () {
    this.timeout(30_000)
    const t = useTestDatabase(dialect, { clean: true })

    it('a schedule seen for the first time fires nothing, then its slot once however many race for it', async () => {
      const first = await fireSchedule(t.d, 'race', fireOnce(Date.now() - 60_000))
      assert.deepEqual([first.fired, first.lost], [[], false])
      // Ten handles — ten connections — fire the same slot at once.
      const handles: Backend[] = await Promise.all(Array.from({ length: 10 }, () => openTestDatabase(t.db)))
      try {
        const slot = Date.now() + 1000 - (Date.now() % 1000)
        const results = await Promise.all(handles.map((h) => fireSchedule(h, 'race', fireOnce(slot))))
        const fired = results.flatMap((r) => r.fired)
        assert.equal(fired.length, 1, JSON.stringify(results))
        const tasks = await t.d.db.selectFrom('sq_tasks').selectAll().execute()
        assert.deepEqual(
          tasks.map((r) => [r.id, r.task, r.args, r.priority, r.status, r.key]),
          [[fired[0]!.id, 'tasks#hello', '{"n":1}', 3, 'queued', slotKey('race', slot)]],
        )
        const row = (await scheduleRows(t.d, ['race'])).get('race')!
        assert.deepEqual([row.last_slot, row.last_task_id], [new Date(slot).toISOString(), fired[0]!.id])
        // The losers were told where the schedule is now.
        for (const r of results) assert.equal(r.sinceMs, slot)
      } finally {
        await Promise.all(handles.map((h) => h.close()))
      }
    })
  })
}
