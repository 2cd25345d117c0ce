import type { Command } from '@oclif/core'
import { Help, oclifCommand } from './base.js'
import cancel from './cancel.js'
import enqueue from './enqueue.js'
import list from './list.js'
import migrate from './migrate.js'
import pause from './pause.js'
import purge from './purge.js'
import requeue from './requeue.js'
import resume from './resume.js'
import schedules from './schedules.js'
import serve from './serve.js'
import show from './show.js'
import stats from './stats.js'
import top from './top.js'
import worker from './worker.js'

const SQ = { cancel, enqueue, list, migrate, pause, purge, requeue, resume, schedules, serve, show, stats, top, worker }
const classes = Object.entries(SQ).map(([id, spec]) => [id, oclifCommand(spec)] as const)

/** sq's commands as oclif classes by id, in order (package.json oclif.commands: strategy "explicit"). */
export const COMMANDS: Record<string, Command.Class> = Object.fromEntries(
  [...classes, ['help', Help] as const].sort(([a], [b]) => a.localeCompare(b)),
)
