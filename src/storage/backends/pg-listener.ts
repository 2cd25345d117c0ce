import type { Client } from 'pg'
import { pgQuery, type PgRun } from './pg-connection.js'
import { pg } from './pg-driver.js'

type Handler = (payload: string) => void

/** Backoff between reconnection attempts of the LISTEN client. */
const RECONNECT_MIN_MS = 200
const RECONNECT_MAX_MS = 5000

/**
 * The connection a process keeps open (Backend.kept unless listenUrl is set): it LISTENs to every channel,
 * runs statements, and reconnects with backoff while someone listens (directly: a process that hears through
 * pg-relay.ts holds it). The loss and each reconnect call every handler with '': what was sent meanwhile is
 * lost, and a missed wake-up would strand work until a poll.
 */
export class PgListener {
  private client: Client | undefined
  private readonly handlers = new Map<string, Set<Handler>>()
  private connecting: Promise<void> | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private retryMs = RECONNECT_MIN_MS
  private closed = false
  /** Statements under way (query), which need the connection listeners or not. */
  private queries = 0
  /** Processes that hear through another's LISTEN (pg-relay.ts) still keep this connection for statements. */
  private holds = 0

  constructor(
    private readonly url: string,
    private readonly run: PgRun = pgQuery,
  ) {}

  get connected(): boolean {
    return this.client !== undefined
  }

  async listen(channel: string, handler: Handler): Promise<() => Promise<void>> {
    this.closed = false
    let set = this.handlers.get(channel)
    const isNew = !set
    if (!set) this.handlers.set(channel, (set = new Set()))
    set.add(handler)
    if (!this.client) await this.connect()
    else if (isNew) await this.client.query(`LISTEN ${pg.escapeIdentifier(channel)}`)
    return async () => {
      set.delete(handler)
      if (!this.listening) await this.disconnect()
    }
  }

  /**
   * One statement on this connection, connecting first when it is down. Kept open only while someone
   * listens: a statement without a listener closes it after, or the process could not exit.
   */
  async query<R>(text: string, values: readonly unknown[], name?: string): Promise<R[]> {
    this.queries++
    try {
      if (!this.client) await this.connect()
      if (!this.client) throw new Error('the database connection is closed')
      return await this.run<R>(this.client, text, values, name)
    } finally {
      if (--this.queries === 0 && !this.needed) await this.disconnect()
    }
  }

  /** Keeps the connection open between statements until the returned function is called. */
  hold(): () => void {
    this.holds++
    let held = true
    return () => {
      if (!held) return
      held = false
      if (--this.holds === 0 && !this.needed && this.queries === 0) void this.disconnect()
    }
  }

  private get needed(): boolean {
    return this.holds > 0 || this.listening
  }

  private get listening(): boolean {
    return [...this.handlers.values()].some((s) => s.size > 0)
  }

  /** Connects and LISTENs to every channel; the first connection's failure is the caller's error. */
  private connect(): Promise<void> {
    // One client at a time: a reconnection timer that fires after a statement reconnected would leave
    // the first client open, unowned, holding the process.
    if (this.client) return Promise.resolve()
    this.connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.url })
      // Without a listener, a lost connection's 'error' event would crash the process.
      client.on('error', () => this.lost(client))
      client.on('end', () => this.lost(client))
      client.on('notification', (message) => this.dispatch(message.channel, message.payload ?? ''))
      try {
        await client.connect()
        for (const channel of this.handlers.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`)
      } catch (error) {
        client.end().catch(() => {})
        throw error
      }
      // Closed meanwhile, or no longer needed (a reconnection that ends after the last listener left).
      if (this.closed || (!this.needed && this.queries === 0)) {
        await client.end().catch(() => {})
        return
      }
      this.client = client
      this.retryMs = RECONNECT_MIN_MS
    })().finally(() => (this.connecting = undefined))
    return this.connecting
  }

  private dispatch(channel: string, payload: string): void {
    for (const handler of this.handlers.get(channel) ?? []) handler(payload)
  }

  private lost(client: Client): void {
    if (this.client !== client) return
    this.client = undefined
    client.end().catch(() => {})
    this.scheduleReconnect()
    // Deaf until it reconnects: a worker asleep until its next poll looks now, and sees the outage.
    for (const channel of this.handlers.keys()) this.dispatch(channel, '')
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer || !this.listening) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      this.connect().then(
        () => {
          for (const channel of this.handlers.keys()) this.dispatch(channel, '')
        },
        () => {
          this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS)
          this.scheduleReconnect()
        },
      )
    }, this.retryMs)
    this.retryTimer.unref()
  }

  async close(): Promise<void> {
    this.closed = true
    await this.disconnect()
  }

  private async disconnect(): Promise<void> {
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    const client = this.client
    this.client = undefined
    await client?.end().catch(() => {})
  }
}
