/** The two roles of a host's workers in pg-relay.ts, and the lines between them on the Unix socket. */
import net from 'node:net'
import type { SharedListen } from '../backend.js'

export type Handler = (payload: string) => void

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

/** What the leader holds: the lock, and the socket its followers connect to. */
export interface Seat {
  lock: net.Server
  server: net.Server
}

interface Role {
  listen(channel: string, as: string): Promise<void>
  hearing(): boolean
  close(): Promise<void>
}

/** Holds the LISTEN connection and passes what it hears to the followers that asked for the channel. */
export class Leader implements Role {
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
export class Follower implements Role {
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

export function connectTo(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath)
    socket.once('error', reject)
    socket.once('connect', () => {
      socket.off('error', reject)
      resolve(socket.unref())
    })
  })
}

export function listenOn(socketPath: string): Promise<net.Server> {
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
