import type { Task, TaskWithRuns } from '../../src/types.js'
import { escapeControl } from '../../ui/format.js'
import { renderTaskDetail } from '../../ui/render-detail.js'
import type { ParsedFlags, SHOW } from '../flags.js'
import type { CommandIO } from './io.js'
import { completedOrExit } from './task-ended.js'

export type ShowFlags = ParsedFlags<typeof SHOW.flags>

/** `sq show ID`: every field, or the output as it grows with --follow. */
export async function showAction(io: CommandIO, idOrPrefix: string, flags: ShowFlags): Promise<Task | TaskWithRuns> {
  const queue = await io.openQueue(flags)
  if (!flags.follow) {
    const task = await queue.getWithRuns(idOrPrefix)
    if (!io.json) io.log(renderTaskDetail(task))
    return task
  }
  const task = await queue.follow(idOrPrefix, (text) => {
    if (!io.json) process.stdout.write(escapeControl(text))
  })
  return completedOrExit(io, task)
}
