import fs from 'node:fs'
import type net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type { SharedListen } from '../backend.js'
import { connectTo, Follower, type Handler, Leader, listenOn, type OwnListen, type Seat } from './pg-relay-roles.js'

/** How long a follower whose leader left waits before it stands (spread, so one wins the socket at once). */
const REELECT_MS = 20
/** Between attempts to take the leader's place when the last failed (the database is down, say). */
const RETRY_MS = 1000
/** How often a follower tries the socket of a leader that holds the lock but has not bound it yet. */
const FOLLOW_ATTEMPTS = 50

/** Where a host's workers meet: the leader's lock (an abstract socket) and its socket (a private file). */
interface RelayPath {
  lock: string
  socket: string
}

/**
 * One LISTEN connection per host and database for the workers on it. PostgreSQL signals every connection
 * that LISTENs in a database at each commit that notified, and each reads the queue in a transaction of its
 * own: with N workers, every task cost 2N transactions. The first worker binds a Unix socket and LISTENs
 * (the leader); the others connect to it (followers) and hear through it. When the leader goes, its
 * followers hear '' (so they look at once) and one of them takes its place.
 */
export class PgRelay {
  private readonly handlers = new Map<string, Set<Handler>>()
  /** Per channel, who this process is and whom a payload is for (SharedListen), when it leads. */
  private readonly shared = new Map<string, SharedListen>()
  private role: Leader | Follower | undefined
  private standing: Promise<void> | undefined
  private releaseHold: (() => void) | undefined
  private timer: NodeJS.Timeout | undefined

  /** Found at the first shared listen (hashing loads node:crypto, which a one-shot command need not). */
  private where: RelayPath | null | undefined

  constructor(
    private readonly url: string,
    private readonly own: OwnListen,
  ) {}

  /** This user's relay for `url`, or null where none can be had (not Linux; no private directory). */
  private static async pathFor(url: string): Promise<RelayPath | null> {
    if (process.platform !== 'linux') return null
    const uid = os.userInfo().uid
    const dir = path.join(os.tmpdir(), `sq-${uid}`)
    try {
      fs.mkdirSync(dir, { mode: 0o700 })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return null
    }
    // The socket carries queue names and task ids: only its owner may reach it.
    const stat = fs.lstatSync(dir)
    if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o077) !== 0) return null
    const { createHash } = await import('node:crypto')
    const name = createHash('sha256').update(url).digest('hex').slice(0, 16)
    return { lock: `\0sq-${uid}-${name}`, socket: path.join(dir, `${name}.sock`) }
  }

  hearing(): boolean {
    return this.role?.hearing() ?? false
  }

  get active(): boolean {
    return this.handlers.size > 0
  }

  async listen(channel: string, handler: Handler, shared: SharedListen): Promise<() => Promise<void>> {
    if (this.where === undefined) this.where = await PgRelay.pathFor(this.url)
    if (this.where === null) return this.own.listen(channel, handler)
    // The connection for claims and heartbeats stays open while this process hears through another's.
    this.releaseHold ??= this.own.hold()
    let set = this.handlers.get(channel)
    const isNew = !set
    if (!set) this.handlers.set(channel, (set = new Set()))
    set.add(handler)
    this.shared.set(channel, shared)
    if (!this.role) await this.stand()
    if (isNew) await this.role?.listen(channel, shared.as)
    return async () => {
      set.delete(handler)
      if (set.size === 0) {
        this.handlers.delete(channel)
        this.shared.delete(channel)
      }
      if (this.handlers.size === 0) await this.close()
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.timer)
    this.handlers.clear()
    this.shared.clear()
    const role = this.role
    this.role = undefined
    this.releaseHold?.()
    this.releaseHold = undefined
    await role?.close()
  }

  private dispatch(channel: string, payload: string): void {
    for (const handler of this.handlers.get(channel) ?? []) handler(payload)
  }

  /** Follows whoever leads, or leads; listens alone when no socket can be had. */
  private stand(): Promise<void> {
    this.standing ??= (async () => {
      const shared = new Map(this.shared)
      const dispatch = (channel: string, payload: string) => this.dispatch(channel, payload)
      const place = await takePlace(this.where!, (socket) =>
        Follower.start(socket, shared, dispatch, () => this.leaderLeft()),
      )
      const role =
        place instanceof Follower
          ? place
          : await Leader.start(place, this.own, [...shared.keys()], dispatch, (channel) => this.shared.get(channel))
      // Closed meanwhile (the worker stops as its leader left): a LISTEN opened now would hold the process.
      if (this.active) this.role = role
      else await role.close()
    })().finally(() => (this.standing = undefined))
    return this.standing
  }

  private leaderLeft(): void {
    this.role = undefined
    // Deaf until someone leads again: look now, as on a lost LISTEN connection.
    for (const channel of this.handlers.keys()) this.dispatch(channel, '')
    this.standAgain(REELECT_MS * (1 + Math.random()))
  }

  private standAgain(ms: number): void {
    if (!this.active) return
    this.timer = setTimeout(() => this.stand().catch(() => this.standAgain(RETRY_MS)), ms)
    this.timer.unref()
  }
}

/**
 * Leads if it can take the lock, an abstract socket (Linux) that dies with its holder, so that a dead
 * leader's socket file is removed by the one that replaces it and by no one else; else follows. Undefined
 * when there is no one to follow after all: the caller listens alone.
 */
async function takePlace(
  relay: RelayPath,
  follow: (socket: net.Socket) => Follower,
): Promise<Follower | Seat | undefined> {
  const lock = await listenOn(relay.lock).catch(() => undefined)
  if (lock) {
    fs.rmSync(relay.socket, { force: true })
    const server = await listenOn(relay.socket).catch(() => undefined)
    if (server) return { lock, server }
    lock.close()
    return undefined
  }
  // The leader may not have bound its socket yet.
  for (let attempt = 0; attempt < FOLLOW_ATTEMPTS; attempt++) {
    try {
      return follow(await connectTo(relay.socket))
    } catch {
      await new Promise((resolve) => setTimeout(resolve, REELECT_MS))
    }
  }
  return undefined
}
