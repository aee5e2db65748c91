// The baseline for the dead-window benchmark: plain Baileys with the reconnect loop most
// examples show — on `connection.update` close (unless logged out), make a new socket after a
// fixed delay. Baileys' own Example/example.ts reconnects at once; many tutorials wait 3–5 s.
// The app sends only while it has seen `open` on the current socket (a send on a socket still in
// its Noise handshake would corrupt the stream); a send attempted while down is lost, as the app
// has nobody to hand it to.
import makeWASocket, {
  DisconnectReason,
  type AuthenticationCreds,
  type BinaryNode,
  type WASocket,
} from '@whiskeysockets/baileys';
import { Waiters } from '../test/support/waiters.js';
import pino from 'pino';
import type { Provisioned } from './sim-process.js';
import { memoryAuth } from '../test/support/credentials.js';

/** Far above the bench's run time: Baileys' own keepalive must not end a socket during the bench. */
const NAIVE_KEEPALIVE_MS = 600_000;
const CONNECT_TIMEOUT_MS = 20_000;

export interface NaiveOutcome {
  /** Sends the app attempted while no socket was open: lost at once. */
  refused: number;
  /** sendMessage rejected (the socket closed under it). */
  threw: number;
}

export class NaiveClient {
  private sock: WASocket | null = null;
  private ready = false;
  private stopped = false;
  private readonly auth;
  /** Server acks by message id, with arrival time and the socket generation that read them. */
  readonly acks: { id: string; t: number; generation: number }[] = [];
  /** Arrival time of each `open`, by socket generation. */
  readonly opens: { generation: number; t: number }[] = [];
  readonly closes: { generation: number; t: number; code: number | undefined }[] = [];
  readonly outcome: NaiveOutcome = { refused: 0, threw: 0 };
  private generation = 0;
  private readonly waiters = new Waiters();

  constructor(
    private readonly wsUrl: string,
    provisioned: Provisioned,
    /** Delay between a close and the next socket. */
    private readonly reconnectDelayMs: number,
  ) {
    this.auth = memoryAuth(provisioned.creds, provisioned.keys);
  }

  start(): void {
    const generation = ++this.generation;
    const sock = makeWASocket({
      waWebSocketUrl: this.wsUrl,
      auth: { creds: this.auth.creds as AuthenticationCreds, keys: this.auth.keys },
      logger: pino({ level: 'silent' }),
      keepAliveIntervalMs: NAIVE_KEEPALIVE_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      markOnlineOnConnect: false,
      syncFullHistory: false,
    });
    this.sock = sock;
    sock.ev.on('creds.update', (u) => Object.assign(this.auth.creds, u));
    sock.ev.on('connection.update', (u) => {
      if (u.connection === 'open') {
        this.ready = true;
        this.opens.push({ generation, t: performance.now() });
        this.poke();
      }
      if (u.connection === 'close') {
        this.ready = false;
        const code = (u.lastDisconnect?.error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode;
        this.closes.push({ generation, t: performance.now(), code });
        this.poke();
        if (this.stopped || code === DisconnectReason.loggedOut) return;
        if (this.reconnectDelayMs === 0) this.start();
        else setTimeout(() => !this.stopped && this.start(), this.reconnectDelayMs);
      }
    });
    sock.ws.on('CB:ack,class:message', (node: BinaryNode) => {
      if (node.attrs.id && !node.attrs.error) this.acks.push({ id: node.attrs.id, t: performance.now(), generation });
      this.poke();
    });
  }

  /** One send, fire and forget, the way an app's handler would call it. */
  send(to: string, text: string, messageId: string): void {
    const sock = this.sock;
    if (!sock || !this.ready) {
      this.outcome.refused++;
      return;
    }
    sock.sendMessage(to, { text }, { messageId }).catch(() => {
      this.outcome.threw++;
    });
  }

  get currentGeneration(): number {
    return this.generation;
  }

  isOpen(): boolean {
    return this.ready;
  }

  until<T>(what: string, probe: () => T | undefined, deadlineMs: number): Promise<T> {
    return this.waiters.until(`naive client: ${what}`, probe, deadlineMs);
  }

  stop(): void {
    this.stopped = true;
    this.ready = false;
    void this.sock?.end(undefined); // a bench client being discarded: nothing to undo
  }

  private poke(): void {
    this.waiters.poke();
  }
}
