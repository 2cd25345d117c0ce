import path from 'node:path'
import { ENV_VARS, type EnvSetting, type Settings } from '../config.js'
import { withoutPassword } from '../inherited-database.js'
import { parseDatabaseUrl } from '../storage/open.js'

/**
 * The environment of a worker's task processes: the worker's own, with its resolved settings as SQ_*
 * variables, so that a task or hook calling `createTask` enqueues into the worker's database, under its
 * root and policy — whichever flag, variable or config file gave them (the environment outranks a
 * config file; a task process runs in the root, where a relative SQLite path would mean another file).
 * The database URL goes without its password: the whole URL goes over the IPC channel
 * (taskDatabaseUrl, src/inherited-database.ts).
 */
export function taskProcessEnv(settings: Settings, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = { ...base }
  for (const [key, variable] of Object.entries(ENV_VARS) as Array<[EnvSetting, string]>) {
    const value = key === 'db' ? withoutPassword(taskDatabaseUrl(settings)) : settings[key]
    if (value === null) delete env[variable]
    else env[variable] = Array.isArray(value) ? value.join(',') : String(value)
  }
  return env
}

/** The worker's database URL as its task processes use it, password included. */
export function taskDatabaseUrl({ db: url }: Pick<Settings, 'db'>): string {
  const location = parseDatabaseUrl(url)
  return location.kind === 'sqlite' ? path.resolve(location.path) : url
}
