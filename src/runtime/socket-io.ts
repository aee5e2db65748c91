/**
 * The account's socket: opens a Baileys connection tagged with the machine's
 * `connectionId`, turns what it reports into machine events (opened, closed, QR, any
 * frame) and hands the rest to the job that owns it (acks and receipts to send-io.ts,
 * messages to inbound.ts, the pairing code to pairing-code.ts). Only the current socket
 * is live; the machine ignores events of one it has left behind.
 */
import type { Logger } from 'pino';
import type { AccountEvent } from '../../machines/index.js';
import {
  openConnection,
  type BaileysConnection,
  type ConnectionEvents,
  type InboundMessage,
} from '../baileys/connection.js';
import { temporaryBan } from '../baileys/temporary-ban.js';
import type { UndecryptableMessage } from '../baileys/undecryptable.js';
import type { AccountAuth } from './account-runtime.js';
import type { Clock } from './clock.js';
import type { FactSink } from './port.js';

/** Baileys' connect timeout sits this far behind the machine's, so the machine's fires first. */
const BAILEYS_CONNECT_MARGIN_MS = 5_000;

export interface LiveConnection {
  id: number;
  conn: BaileysConnection;
}

export interface SocketIoOptions {
  account: string;
  auth: AccountAuth;
  sink: FactSink;
  log: Logger;
  clock: Clock;
  /** WebSocket URL; undefined = WhatsApp's own. */
  waWebSocketUrl?: string;
  baileysLogger?: Logger;
  /** The machine: where socket facts go, and its connect timeout. */
  send(event: AccountEvent): void;
  connectTimeoutMs(): number;
  /** Resolves once no clear of the credentials is under way (session-facts.ts). */
  credentialsSettled(): Promise<void>;
  /** What the socket reports that other jobs own. */
  on: {
    serverAck(waMessageId: string, error: string | undefined): void;
    receipt(waMessageId: string, ack: 'delivered' | 'read'): void;
    inbound(message: InboundMessage): void;
    groupReceipt: ConnectionEvents['groupReceipt'];
    groupParticipants: ConnectionEvents['groupParticipants'];
    undecryptable(message: UndecryptableMessage): void;
    getMessage: Parameters<typeof openConnection>[0]['getMessage'];
    /** Up and unpaired with a phone to pair: ask for the code (once per socket). */
    pairingCode(conn: BaileysConnection, phone: string, connectionId: number): Promise<void>;
  };
}

export class SocketIo {
  private live: LiveConnection | null = null;

  constructor(private readonly o: SocketIoOptions) {}

  current(): LiveConnection | null {
    return this.live;
  }

  /** The socket, only while the account is logged in (`open`). */
  currentIf(state: string): LiveConnection | null {
    return state === 'open' ? this.live : null;
  }

  async open(connectionId: number, pairPhone: string | null): Promise<void> {
    const { o } = this;
    this.live?.conn.end();
    await o.credentialsSettled();
    const log = o.log.child({ connectionId });
    const isCurrent = () => this.live?.id === connectionId;
    const guard =
      <A extends unknown[]>(what: string, fn: (...args: A) => void) =>
      (...args: A) => {
        // One account's bad frame or bug must never reach another account or the process.
        try {
          fn(...args);
        } catch (err) {
          log.error({ err }, `handling ${what} failed`);
        }
      };
    let codeRequested = false;
    const conn = openConnection(
      {
        ...(o.waWebSocketUrl ? { waWebSocketUrl: o.waWebSocketUrl } : {}),
        auth: o.auth.state,
        // Baileys logs every frame kind at info; warn and up is what an operator needs.
        logger: o.baileysLogger ?? log.child({ lib: 'baileys' }, { level: log.levelVal > 40 ? log.level : 'warn' }),
        // The machine's connect timer decides; Baileys' own fires later, as a backstop.
        connectTimeoutMs: o.connectTimeoutMs() + BAILEYS_CONNECT_MARGIN_MS,
        getMessage: (waId) => o.on.getMessage(waId),
      },
      {
        opened: guard('open', () => o.send({ type: 'SocketOpened', connectionId, at: o.clock.now() })),
        closed: guard('close', (statusCode, message, unreachable, failure) => {
          log.info(
            { statusCode, reason: message, ...(unreachable !== undefined ? { unreachable } : {}) },
            'socket closed',
          );
          if (isCurrent()) this.live = null;
          o.send({
            type: 'SocketClosed',
            connectionId,
            ...(statusCode !== undefined ? { statusCode } : {}),
            ...(unreachable !== undefined ? { unreachable } : {}),
            ...temporaryBan(statusCode, failure),
            at: o.clock.now(),
          });
        }),
        qr: guard('qr', (qr) => {
          if (pairPhone) {
            // The socket is up and unpaired: now WhatsApp takes a pairing-code request.
            if (codeRequested) return;
            codeRequested = true;
            if (this.live?.id === connectionId) void o.on.pairingCode(this.live.conn, pairPhone, connectionId);
            return;
          }
          o.sink({ account: o.account, type: 'qr', qr });
          o.send({ type: 'QrReceived', connectionId });
        }),
        frame: guard('frame', () => o.send({ type: 'InboundReceived', connectionId })),
        serverAck: guard('ack', (waId, error) => o.on.serverAck(waId, error)),
        receipt: guard('receipt', (waId, ack) => o.on.receipt(waId, ack)),
        inbound: guard('message', (m) => o.on.inbound(m)),
        groupReceipt: guard('receipt', (r) => o.on.groupReceipt(r)),
        groupParticipants: guard('group', (c) => o.on.groupParticipants(c)),
        undecryptable: guard('message', (m) => o.on.undecryptable(m)),
        credsChanged: guard('creds', () => {
          o.auth.saveCreds().catch((err: unknown) => log.error({ err }, 'saving credentials failed'));
        }),
      },
    );
    this.live = { id: connectionId, conn };
  }

  /** End that socket, if it is still the current one; its close is still reported. */
  close(connectionId: number): void {
    if (this.live?.id === connectionId) this.live.conn.end();
  }

  /** The current socket, let go of (a logout unlinks through it and does not wait for its close). */
  detach(): LiveConnection | null {
    const live = this.live;
    this.live = null;
    return live;
  }

  end(): void {
    this.live?.conn.end();
    this.live = null;
  }
}
