/**
 * The settings when neither a flag, the environment nor sq.config.* gives them (config.ts Settings). This
 * file imports nothing: the flag table (commands/flags.ts), which the fast path loads first, reads it too,
 * where config.ts would bring its imports.
 */
export const SETTING_DEFAULTS = {
  db: './sq.db',
  allowedTasks: null,
  taskTimeout: 3600,
  maxOutputSize: 10 * 1024 * 1024,
  maxArgsSize: 1024 * 1024,
  hooks: null,
  heartbeatTimeout: 30,
  publicUrl: [],
  pollInterval: 5,
  schedules: [],
  retention: {},
}

/** What a task gets when whoever enqueues it (Queue.enqueue, `sq enqueue`'s flags) says nothing. */
export const TASK_DEFAULTS = { queue: 'default', priority: 0, maxAttempts: 1 } as const
