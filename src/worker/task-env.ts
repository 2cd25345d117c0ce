import path from 'node:path'
import { ENV_VARS, type EnvSetting, type Settings } from '../config.js'
import { parseDatabaseUrl } from '../storage/open.js'

/**
 * The environment of a worker's task processes: the worker's own, with its resolved settings as SQ_*
 * variables, so that a task or hook calling `createTask` enqueues into the worker's database, under its
 * root and policy — whichever flag, variable or config file gave them (the environment outranks a
 * config file; a task process runs in the root, where a relative SQLite path would mean another file).
 */
export function taskProcessEnv(settings: Settings, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = { ...base }
  for (const [key, variable] of Object.entries(ENV_VARS) as Array<[EnvSetting, string]>) {
    const value = key === 'db' ? absoluteDatabaseUrl(settings.db) : settings[key]
    if (value === null) delete env[variable]
    else env[variable] = Array.isArray(value) ? value.join(',') : String(value)
  }
  return env
}

function absoluteDatabaseUrl(url: string): string {
  const location = parseDatabaseUrl(url)
  return location.kind === 'sqlite' ? path.resolve(location.path) : url
}
