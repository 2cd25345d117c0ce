import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type { SharedListen } from '../backend.js'

type Handler = (payload: string) => void

/** What the relay needs of the process's own LISTEN connection (pg-listener.ts). */
export interface OwnListen {
  listen(channel: string, handler: Handler): Promise<() => Promise<void>>
  hearing(): boolean
  /** Keeps the connection open for statements while this process hears through another's. */
  hold(): () => void
}
/**
 * A line on the socket. To the leader: `l`, listen to a channel as `a`. From it: `c`/`p`, a notification;
 * `h`, whether it hears.
 */
type Line = { l: string; a: string } | { c: string; p: string } | { h: boolean }

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

/** What the leader holds: the lock, and the socket its followers connect to. */
interface Seat {
  lock: net.Server
  server: net.Server
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

interface Role {
  listen(channel: string, as: string): Promise<void>
  hearing(): boolean
  close(): Promise<void>
}

/** Holds the LISTEN connection and passes what it hears to the followers that asked for the channel. */
class Leader implements Role {
  /** Each follower's channels, and who it is on each. */
  private readonly followers = new Map<net.Socket, Map<string, string>>()
  private readonly stops = new Map<string, Promise<() => Promise<void>>>()

  private constructor(
    private readonly seat: Seat | undefined,
    private readonly own: OwnListen,
    private readonly dispatch: (channel: string, payload: string) => void,
    private readonly sharedOf: (channel: string) => SharedListen | undefined,
  ) {
    seat?.server.on('connection', (socket) => this.follow(socket.unref()))
  }

  static async start(
    seat: Seat | undefined,
    own: OwnListen,
    channels: string[],
    dispatch: (channel: string, payload: string) => void,
    sharedOf: (channel: string) => SharedListen | undefined,
  ): Promise<Leader> {
    const leader = new Leader(seat, own, dispatch, sharedOf)
    try {
      for (const channel of channels) await leader.listen(channel)
    } catch (error) {
      await leader.close()
      throw error
    }
    return leader
  }

  async listen(channel: string): Promise<void> {
    let stop = this.stops.get(channel)
    if (!stop) {
      stop = this.own.listen(channel, (payload) => this.heard(channel, payload))
      this.stops.set(channel, stop)
      stop.catch(() => this.stops.delete(channel))
    }
    await stop
  }

  hearing(): boolean {
    return this.own.hearing()
  }

  async close(): Promise<void> {
    this.seat?.server.close()
    this.seat?.lock.close()
    for (const socket of this.followers.keys()) socket.destroy()
    for (const stop of this.stops.values()) await (await stop.catch(() => async () => {}))()
    this.stops.clear()
  }

  private heard(channel: string, payload: string): void {
    this.dispatch(channel, payload)
    const isFor = this.sharedOf(channel)?.isFor
    for (const [socket, channels] of this.followers) {
      const as = channels.get(channel)
      if (as !== undefined && (payload === '' || !isFor || isFor(payload, as)))
        write(socket, { c: channel, p: payload })
      // '' is a loss or a reconnect: the followers' hearing follows the leader's.
      if (payload === '') write(socket, { h: this.hearing() })
    }
  }

  private follow(socket: net.Socket): void {
    const channels = new Map<string, string>()
    this.followers.set(socket, channels)
    socket.on('close', () => this.followers.delete(socket))
    socket.on('error', () => socket.destroy())
    readLines(socket, (line) => {
      if (!('l' in line)) return
      channels.set(line.l, line.a)
      this.listen(line.l).then(
        () => write(socket, { h: this.hearing() }),
        () => write(socket, { h: false }),
      )
    })
  }
}

/** Hears through the leader's socket; its close is the leader gone. */
class Follower implements Role {
  private heard = false

  private constructor(private readonly socket: net.Socket) {}

  static start(
    socket: net.Socket,
    shared: ReadonlyMap<string, SharedListen>,
    dispatch: (channel: string, payload: string) => void,
    left: () => void,
  ): Follower {
    const follower = new Follower(socket)
    socket.on('error', () => socket.destroy())
    socket.on('close', left)
    readLines(socket, (line) => {
      if ('h' in line) follower.heard = line.h
      else if ('c' in line) dispatch(line.c, line.p)
    })
    for (const [channel, { as }] of shared) write(socket, { l: channel, a: as })
    return follower
  }

  async listen(channel: string, as: string): Promise<void> {
    write(this.socket, { l: channel, a: as })
  }

  hearing(): boolean {
    return this.heard
  }

  async close(): Promise<void> {
    this.socket.removeAllListeners('close')
    this.socket.destroy()
  }
}

function connectTo(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath)
    socket.once('error', reject)
    socket.once('connect', () => {
      socket.off('error', reject)
      resolve(socket.unref())
    })
  })
}

function listenOn(socketPath: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(socketPath, () => {
      server.off('error', reject)
      server.unref()
      resolve(server)
    })
  })
}

function write(socket: net.Socket, line: Line): void {
  if (!socket.destroyed) socket.write(`${JSON.stringify(line)}\n`)
}

function readLines(socket: net.Socket, onLine: (line: Line) => void): void {
  let rest = ''
  socket.setEncoding('utf8')
  socket.on('data', (data: string) => {
    const lines = (rest + data).split('\n')
    rest = lines.pop() ?? ''
    for (const line of lines) if (line) onLine(JSON.parse(line) as Line)
  })
}
