import { cronOf, type ScheduleDef } from '../schedule/definition.js'
import { nextSlot } from '../schedule/slots.js'
import type { Backend } from '../storage/backend.js'
import { scheduleRows } from '../storage/schedule-repository.js'
import { databaseTime } from '../storage/worker-repository.js'

/** One schedule as `sq schedules` shows it: its definition, its last slot fired and its next. */
export type ScheduleInfo = Pick<ScheduleDef, 'name' | 'cron' | 'timezone' | 'task' | 'args' | 'queue' | 'priority'> & {
  catch_up: ScheduleDef['catchUp']
  /** The newest slot a worker fired (or skipped under the catch-up policy); null before the first. */
  last_run: string | null
  /** The task enqueued for the newest slot fired; null before the first. */
  last_task_id: string | null
  /** The next slot after the database's current time; null when the cron never fires again. */
  next_run: string | null
}

/** The configured schedules with what the database knows of them; needs no worker running. */
export async function listSchedules(backend: Backend, defs: ScheduleDef[]): Promise<ScheduleInfo[]> {
  if (defs.length === 0) return []
  const names = defs.map((s) => s.name)
  const [rows, nowMs] = await Promise.all([scheduleRows(backend, names), databaseTime(backend)])
  return defs.map((def) => {
    const row = rows.get(def.name)
    const next = nextSlot(cronOf(def), nowMs)
    return {
      name: def.name,
      cron: def.cron,
      timezone: def.timezone,
      task: def.task,
      args: def.args,
      queue: def.queue,
      priority: def.priority,
      catch_up: def.catchUp,
      last_run: row?.last_slot ?? null,
      last_task_id: row?.last_task_id ?? null,
      next_run: next === null ? null : new Date(next).toISOString(),
    }
  })
}
