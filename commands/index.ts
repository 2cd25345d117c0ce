import { oclifCommand } from './base.js'
import cancel from './cancel.js'
import enqueue from './enqueue.js'
import Help from './help.js'
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

export const COMMANDS = {
  cancel: oclifCommand(cancel),
  enqueue: oclifCommand(enqueue),
  help: Help,
  list: oclifCommand(list),
  migrate: oclifCommand(migrate),
  pause: oclifCommand(pause),
  purge: oclifCommand(purge),
  requeue: oclifCommand(requeue),
  resume: oclifCommand(resume),
  schedules: oclifCommand(schedules),
  serve: oclifCommand(serve),
  show: oclifCommand(show),
  stats: oclifCommand(stats),
  top: oclifCommand(top),
  worker: oclifCommand(worker),
}
