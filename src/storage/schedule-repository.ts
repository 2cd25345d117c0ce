import type { Backend } from './backend.js'
import { insertUnkeyed } from './bulk-insert.js'
import type { NewTask } from './task-repository.js'

/**
 * A schedule's row holds its newest slot fired; firing advances it by compare-and-set IN THE SAME TRANSACTION as the
 * insert of the slot's tasks, so a slot is enqueued once however many workers try.
 */

/** The task of one slot, ready to insert (the caller checked the reference and serialised the args). */
export type SlotTask = Pick<NewTask, 'id' | 'task' | 'argsJson' | 'queue' | 'priority'>

/** What to fire, decided from the time since which slots count and the database's time (both ms). */
export type Plan = (
  sinceMs: number,
  nowMs: number,
) => { fire: Array<{ slot: number; task: SlotTask }>; last: number | null }

export interface FireResult {
  /** Tasks enqueued, one per slot, oldest first. */
  fired: Array<{ slot: number; id: string }>
  /** The time since which slots count now (the row's last slot, or its creation): for the next look. */
  sinceMs: number
  /** The database's time when it looked. */
  nowMs: number
  /** Another worker fired (or skipped) these slots first; this one inserted nothing. */
  lost: boolean
}

/** The rows of these schedules, by name, their times as ISO text. */
export async function scheduleRows(backend: Backend, names: string[]) {
  const rows =
    names.length === 0
      ? []
      : await backend.db.selectFrom('sq_schedules').selectAll().where('name', 'in', names).execute()
  const iso = (r: (typeof rows)[number]) => ({
    ...r,
    last_slot: backend.toIso(r.last_slot),
    created: backend.toIso(r.created),
  })
  return new Map(rows.map((r) => [r.name, iso(r)]))
}

/** Fires what `plan` finds due for `name`, in one write transaction; a new schedule gets its row and fires nothing. */
export async function fireSchedule(backend: Backend, name: string, plan: Plan): Promise<FireResult> {
  return backend.writeTransaction(async (trx) => {
    const read = () =>
      trx.db
        .selectFrom('sq_schedules')
        .select(['last_slot', 'created', backend.now().as('now')])
        .where('name', '=', name)
        .executeTakeFirst()
    // Slots count since the row's last slot, or its creation.
    const since = (r: { last_slot: Date | string | null; created: Date | string }) =>
      Date.parse(backend.toIso(r.last_slot ?? r.created))
    const row = await read()
    if (!row) {
      await trx.db
        .insertInto('sq_schedules')
        .values({ name, last_slot: null, last_task_id: null, created: backend.now() })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute()
      const created = (await read())!
      return { fired: [], sinceMs: since(created), nowMs: Date.parse(backend.toIso(created.now)), lost: false }
    }
    const sinceMs = since(row)
    const nowMs = Date.parse(backend.toIso(row.now))
    const { fire, last } = plan(sinceMs, nowMs)
    if (last === null) return { fired: [], sinceMs, nowMs, lost: false }
    const lastSlot = backend.toIso(row.last_slot)
    const newest = fire.at(-1)
    const swapped = await trx.db
      .updateTable('sq_schedules')
      .set({ last_slot: new Date(last).toISOString(), ...(newest ? { last_task_id: newest.task.id } : {}) })
      .where('name', '=', name)
      .where((eb) => (lastSlot === null ? eb('last_slot', 'is', null) : eb('last_slot', '=', lastSlot)))
      .executeTakeFirst()
    if (Number(swapped.numUpdatedRows) !== 1)
      return { fired: [], sinceMs: since((await read()) ?? row), nowMs, lost: true }
    // Each key says which schedule and slot the task is for (sq show, sq list --search); unique anyway.
    const tasks = fire.map(({ slot, task }) => ({ ...task, maxAttempts: 1, key: slotKey(name, slot), runAt: NOW }))
    await insertUnkeyed(backend, trx, tasks)
    return { fired: fire.map(({ slot, task }) => ({ slot, id: task.id })), sinceMs: last, nowMs, lost: false }
  })
}

const NOW = { afterSeconds: 0 }

/** The `key` of a schedule's task: `schedule:NAME@SLOT` (SLOT in ISO 8601, UTC). */
export function slotKey(name: string, slotMs: number): string {
  return `schedule:${name}@${new Date(slotMs).toISOString()}`
}
