/** The settings' defaults (config.ts). Imports nothing: the fast path's flag table (commands/flags.ts) reads it. */
export const SETTING_DEFAULTS = {
  db: './sq.db',
  listenUrl: null,
  preparedStatements: true,
  allowedTasks: null,
  taskTimeout: 3600,
  maxOutputSize: 10 * 1024 * 1024,
  maxArgsSize: 1024 * 1024,
  hooks: null,
  heartbeatTimeout: 30,
  publicUrl: [],
  pollInterval: 5,
  tasksPerProcess: 1,
  schedules: [],
  retention: {},
}

/** What a task gets when whoever enqueues it (Queue.enqueue, `sq enqueue`'s flags) says nothing. */
export const TASK_DEFAULTS = { queue: 'default', priority: 0, maxAttempts: 1 } as const
