import Cancel from './cancel.js'
import Enqueue from './enqueue.js'
import Help from './help.js'
import List from './list.js'
import Migrate from './migrate.js'
import Pause from './pause.js'
import Purge from './purge.js'
import Requeue from './requeue.js'
import Resume from './resume.js'
import Schedules from './schedules.js'
import Serve from './serve.js'
import Show from './show.js'
import Stats from './stats.js'
import Top from './top.js'
import Worker from './worker.js'

export const COMMANDS = {
  cancel: Cancel,
  enqueue: Enqueue,
  help: Help,
  list: List,
  migrate: Migrate,
  pause: Pause,
  purge: Purge,
  requeue: Requeue,
  resume: Resume,
  schedules: Schedules,
  serve: Serve,
  show: Show,
  stats: Stats,
  top: Top,
  worker: Worker,
}
