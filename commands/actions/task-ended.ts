import { TaskEndedBadlyError } from '../../src/errors.js'
import { firstNonBlankLine } from '../../src/display-text.js'
import type { Task } from '../../src/types.js'
import type { CommandIO } from './io.js'

/**
 * The end of `--wait` and `--follow`: the task when it completed; otherwise its record (with --json)
 * and a TaskEndedBadlyError naming its status and the first line of its error (exit 1).
 */
export function completedOrExit(io: CommandIO, task: Task): Task {
  if (task.status === 'completed') return task
  if (io.json) io.logJson(task)
  throw new TaskEndedBadlyError(
    `task ${task.id} ${task.status}${task.error ? `: ${firstNonBlankLine(task.error)}` : ''}`,
  )
}
