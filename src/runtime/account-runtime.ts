/**
 * One account, running: the account machine with its IO implemented on a Baileys
 * connection, a single timer, the send payloads, and the facts it reports. The machine
 * decides; this class only performs what it asks and reports what happened.
 */
import type { AuthenticationState } from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import { createActor, type Actor, type InspectionEvent } from 'xstate';
import {
  accountMachine,
  ONLINE_STATES,
  stateName,
  type AccountEvent,
  type AccountStateName,
  type AccountTimings,
  type IoParams,
  type TimerRequest,
} from '../../machines/index.js';
import { isConnectionGone, openConnection, type BaileysConnection, type InboundMessage } from '../baileys/connection.js';
import { WaError, type KeepaliveStrategy } from '../contract/index.js';
import { DropDefence } from './drop-pattern.js';
import { DEFAULT_KEEPALIVE, DEFAULT_PRESENCE_EVERY_MS, probePlan } from './keepalive.js';
import type { LoopMonitor } from './loop-monitor.js';
import { MachineTimer, type AccountTimer } from './machine-timer.js';
import { Outbound } from './outbound.js';
import type { FactSink, OutgoingSend } from './port.js';
import { SendFacts } from './send-facts.js';
import { Lru } from './lru.js';

/** Credentials of one account (src/baileys/auth-store.ts, or in memory in tests). */
export interface AccountAuth {
  state: AuthenticationState;
  saveCreds(): Promise<void>;
  clear(): Promise<void>;
  close(): Promise<void>;
}

export interface AccountSettings {
  keepalive?: KeepaliveStrategy;
  /** Recycle the session just before a predicted drop when drops are metronomic (default true). */
  recycleAheadOfDrops?: boolean;
  presenceEveryMs?: number;
  timings?: Partial<AccountTimings>;
  inboundResetsIdle?: boolean;
}

export interface AccountRuntimeOptions extends AccountSettings {
  account: string;
  auth: AccountAuth;
  sink: FactSink;
  logger: Logger;
  loop: LoopMonitor;
  /** WebSocket URL; undefined = WhatsApp's own. */
  waWebSocketUrl?: string;
  /** Baileys' own logger (quiet by default: it logs at info per frame kind). */
  baileysLogger?: Logger;
  seed?: number;
  now?: () => number;
  /** XState inspection hook (the Stately inspector, coverage in tests). */
  inspect?: (event: InspectionEvent) => void;
  /** The machine's timer; real time unless a test drives the clock. */
  timer?: AccountTimer;
}

/** Inbound message ids remembered to drop a redelivery (offline `append` after a reconnect). */
const INBOUND_DEDUP_SIZE = 10_000;
/** Baileys' connect timeout sits this far behind the machine's, so the machine's fires first. */
const BAILEYS_CONNECT_MARGIN_MS = 5_000;
/** How long `pair(phone)` waits for WhatsApp to issue a pairing code. */
const PAIRING_CODE_TIMEOUT_MS = 30_000;

/** States a server-initiated close can interrupt: the drops a pattern is made of. */
const SERVER_DROP_FROM = new Set<AccountStateName>([...ONLINE_STATES, 'draining']);
const CONNECTED: ReadonlySet<AccountStateName> = new Set(ONLINE_STATES);

interface LiveConnection {
  id: number;
  conn: BaileysConnection;
  /**
   * Sends go to the socket one after another. Baileys' sendMessage awaits several
   * steps (device lookup, prekeys, encryption) without a lock, so concurrent calls can
   * reach the wire out of order; chaining keeps the machine's dispatch order.
   */
  sendChain: Promise<void>;
}

export class AccountRuntime {
  readonly account: string;
  private readonly actor: Actor<typeof accountMachine>;
  private readonly log: Logger;
  private readonly now: () => number;
  private current: LiveConnection | null = null;
  private readonly timer: AccountTimer;
  private readonly outbound: Outbound;
  private readonly sendFacts: SendFacts;
  private readonly drops: DropDefence;
  private readonly seenInbound = new Lru<true>(INBOUND_DEDUP_SIZE);
  private lastPresenceAt: number | null = null;
  private pairingSeen = false;
  private pendingClear: Promise<void> | null = null;
  private pairingCodeWaiter: { resolve(code: string): void; reject(err: Error): void } | null = null;

  constructor(private readonly opts: AccountRuntimeOptions) {
    this.account = opts.account;
    this.log = opts.logger;
    this.now = opts.now ?? Date.now;
    this.timer = opts.timer ?? new MachineTimer(this.now);
    this.outbound = new Outbound(opts.account);
    this.sendFacts = new SendFacts(opts.account, opts.sink);
    this.drops = new DropDefence({
      now: this.now,
      enabled: opts.recycleAheadOfDrops !== false,
      report: (pattern) => {
        this.log.warn(pattern, 'metronomic drop pattern: a server-side timer is ending the session');
        this.opts.sink({ account: this.account, type: 'drop.pattern', ...pattern });
      },
      // Only a healthy link is recycled: anything else is already reconnecting.
      recycle: () => {
        if (CONNECTED.has(this.state())) this.recycle('dropPredicted');
      },
    });
    const io = this.io();
    this.actor = createActor(accountMachine.provide({ actions: io }), {
      ...(opts.inspect ? { inspect: opts.inspect } : {}),
      input: {
        account: opts.account,
        seed: opts.seed ?? Math.floor(Math.random() * 2 ** 32),
        ...(opts.timings ? { timings: opts.timings } : {}),
        ...(opts.inboundResetsIdle !== undefined ? { inboundResetsIdle: opts.inboundResetsIdle } : {}),
      },
    });
    this.actor.on('transition', (record) => {
      // The one place transitions are logged.
      this.log.info({ from: record.from, to: record.to, event: record.event, reason: record.reason, statusCode: record.statusCode, cause: record.cause }, 'transition');
      this.opts.sink({ account: this.account, ...record });
      if (record.to === 'pairing') this.pairingSeen = true;
      if (record.to === 'open' && this.pairingSeen) {
        this.pairingSeen = false;
        const jid = this.opts.auth.state.creds.me?.id;
        this.opts.sink({ account: this.account, type: 'paired', ...(jid ? { jid } : {}) });
      }
      if (record.to === 'open' && (record.from === 'connecting' || record.from === 'pairing')) this.drops.sessionOpened();
      if (record.statusCode !== undefined && SERVER_DROP_FROM.has(record.from) && (record.to === 'reconnecting' || record.to === 'connecting')) {
        this.drops.serverDropped();
      }
      if (record.to === 'stopped' || record.to === 'loggedOut') this.drops.cancel();
      if (record.to === 'loggedOut') {
        this.opts.sink({ account: this.account, type: 'logged_out', ...(record.statusCode !== undefined ? { statusCode: record.statusCode } : {}) });
      }
    });
    this.actor.subscribe({ error: (err) => this.log.error({ err }, 'account machine failed') });
  }

  start(): void {
    this.actor.start();
  }

  state(): AccountStateName {
    return stateName(this.actor.getSnapshot());
  }

  snapshot() {
    return this.actor.getSnapshot();
  }

  connect(): AccountStateName {
    this.send({ type: 'Connect' });
    return this.state();
  }

  disconnect(): AccountStateName {
    this.send({ type: 'Disconnect' });
    return this.state();
  }

  async logout(): Promise<AccountStateName> {
    this.send({ type: 'Logout' });
    await this.pendingClear;
    return this.state();
  }

  /** Planned reconnect (drain first), e.g. ahead of a predicted drop. */
  recycle(reason: string): void {
    this.send({ type: 'Recycle', reason });
  }

  async pair(phone?: string): Promise<{ method: 'qr' | 'code'; code?: string }> {
    // Logged out (401), the old credentials are dead: pairing again replaces them.
    if (this.isPaired() && this.state() !== 'loggedOut') {
      throw new WaError('bad_request', `account ${this.account} is already paired; log it out first`);
    }
    if (!phone) {
      this.send({ type: 'Pair' });
      return { method: 'qr' };
    }
    const code = new Promise<string>((resolve, reject) => {
      const timeout = setTimeout(() => {
        this.pairingCodeWaiter = null;
        reject(new WaError('timeout', 'WhatsApp issued no pairing code in time'));
      }, PAIRING_CODE_TIMEOUT_MS);
      this.pairingCodeWaiter = {
        resolve: (c) => {
          clearTimeout(timeout);
          resolve(c);
        },
        reject: (e) => {
          clearTimeout(timeout);
          reject(e);
        },
      };
    });
    this.send({ type: 'Pair', phone });
    return { method: 'code', code: await code };
  }

  /** Paired = WhatsApp signed our device identity (`account`, set by pair-success). */
  isPaired(): boolean {
    const { creds } = this.opts.auth.state;
    return Boolean(creds.account && creds.me?.id);
  }

  /** A recorded send: dispatched at once when the link is up, else held in order. */
  submit(send: OutgoingSend): 'dispatched' | 'held' | 'refused' {
    this.outbound.remember(send);
    this.send({ type: 'Send', id: send.id });
    const c = this.actor.getSnapshot().context;
    if (c.inFlight.includes(send.id)) return 'dispatched';
    if (c.outbox.includes(send.id)) return 'held';
    this.outbound.forget(send.id);
    return 'refused';
  }

  /** A held send's deadline passed (the NATS layer keeps deadline timers): drop it if still held. */
  expire(id: string): boolean {
    const held = this.actor.getSnapshot().context.outbox.includes(id);
    if (held) this.send({ type: 'Expire', id });
    return held;
  }

  /** Stop for good: drain, close, release the credentials. */
  async stop(deadlineMs = 5_000): Promise<void> {
    this.send({ type: 'Disconnect' });
    const until = this.now() + deadlineMs;
    while (this.state() !== 'stopped' && this.state() !== 'loggedOut' && this.now() < until) {
      await new Promise<void>((resolve) => {
        const sub = this.actor.subscribe(() => {
          sub.unsubscribe();
          resolve();
        });
        setTimeout(resolve, Math.max(0, until - this.now())).unref();
      });
    }
    this.current?.conn.end();
    this.current = null;
    this.timer.clear();
    this.drops.cancel();
    this.actor.stop();
    await this.opts.auth.close();
  }

  private send(event: AccountEvent): void {
    this.actor.send(event);
  }

  // ── the machine's IO ─────────────────────────────────────────────────────
  private io() {
    type Impl<K extends keyof IoParams> = (_: unknown, params: IoParams[K]) => void;
    const openSocket: Impl<'openSocket'> = (_, p) => void this.openSocket(p.connectionId, p.pairPhone);
    const closeSocket: Impl<'closeSocket'> = (_, p) => {
      if (this.current?.id === p.connectionId) this.current.conn.end();
    };
    const sendProbe: Impl<'sendProbe'> = (_, p) => void this.probe(p.connectionId, p.probeId);
    const dispatchSend: Impl<'dispatchSend'> = (_, p) => this.dispatch(p.id, p.connectionId);
    const failSend: Impl<'failSend'> = (_, p) => {
      this.outbound.forget(p.id);
      this.sendFacts.failed(p.id, { code: p.code === 'logged_out' ? 'logged_out' : 'bad_request', message: p.message });
    };
    const expireSend: Impl<'expireSend'> = (_, p) => {
      this.outbound.forget(p.id);
      this.sendFacts.expired(p.id);
    };
    const startTimer: Impl<'startTimer'> = (_, request) => this.armTimer(request);
    const stopTimer: Impl<'stopTimer'> = (_, p) => this.timer.clear(p.slot);
    const logout: Impl<'logout'> = () => {
      const live = this.current;
      this.current = null;
      if (live) live.conn.logout().catch((err: unknown) => this.log.warn({ err }, 'logout at WhatsApp failed; credentials cleared locally'));
      this.clearCredentials();
    };
    const clearCredentials = () => this.clearCredentials();
    return { openSocket, closeSocket, sendProbe, dispatchSend, failSend, expireSend, startTimer, stopTimer, logout, clearCredentials };
  }

  private async openSocket(connectionId: number, pairPhone: string | null): Promise<void> {
    this.current?.conn.end();
    await this.pendingClear;
    const log = this.log.child({ connectionId });
    const isCurrent = () => this.current?.id === connectionId;
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
        ...(this.opts.waWebSocketUrl ? { waWebSocketUrl: this.opts.waWebSocketUrl } : {}),
        auth: this.opts.auth.state,
        // Baileys logs every frame kind at info; warn and up is what an operator needs.
        logger: this.opts.baileysLogger ?? log.child({ lib: 'baileys' }, { level: log.levelVal > 40 ? log.level : 'warn' }),
        // The machine's connect timer decides; Baileys' own fires later, as a backstop.
        connectTimeoutMs: this.snapshot().context.timings.connectTimeoutMs + BAILEYS_CONNECT_MARGIN_MS,
        getMessage: (waId) => this.outbound.message(waId),
      },
      {
        opened: guard('open', () => this.send({ type: 'SocketOpened', connectionId, at: this.now() })),
        closed: guard('close', (statusCode, message, unreachable) => {
          log.info({ statusCode, reason: message, ...(unreachable !== undefined ? { unreachable } : {}) }, 'socket closed');
          if (isCurrent()) this.current = null;
          this.send({
            type: 'SocketClosed',
            connectionId,
            ...(statusCode !== undefined ? { statusCode } : {}),
            ...(unreachable !== undefined ? { unreachable } : {}),
            at: this.now(),
          });
        }),
        qr: guard('qr', (qr) => {
          if (pairPhone) {
            // The socket is up and unpaired: now WhatsApp takes a pairing-code request.
            if (codeRequested) return;
            codeRequested = true;
            void this.requestPairingCode(connectionId, pairPhone);
            return;
          }
          this.opts.sink({ account: this.account, type: 'qr', qr });
          this.send({ type: 'QrReceived', connectionId });
        }),
        frame: guard('frame', () => this.send({ type: 'InboundReceived', connectionId })),
        serverAck: guard('ack', (waId, error) => this.onServerAck(waId, error)),
        receipt: guard('receipt', (waId, ack) => {
          const id = this.outbound.sendIdOf(waId);
          if (id) this.sendFacts.acked(id, ack);
        }),
        inbound: guard('message', (m) => this.onInbound(m)),
        credsChanged: guard('creds', () => {
          this.opts.auth.saveCreds().catch((err: unknown) => log.error({ err }, 'saving credentials failed'));
        }),
      },
    );
    this.current = { id: connectionId, conn, sendChain: Promise.resolve() };
  }

  private async requestPairingCode(connectionId: number, phone: string): Promise<void> {
    const live = this.current;
    if (!live || live.id !== connectionId) return;
    try {
      const code = await live.conn.requestPairingCode(phone);
      this.send({ type: 'PairingCodeIssued', connectionId });
      this.pairingCodeWaiter?.resolve(code);
    } catch (err) {
      this.log.warn({ err }, 'pairing code request failed');
      this.pairingCodeWaiter?.reject(new WaError('unavailable', 'WhatsApp refused the pairing-code request', { cause: err }));
    } finally {
      this.pairingCodeWaiter = null;
    }
  }

  private async probe(connectionId: number, probeId: number): Promise<void> {
    const live = this.current;
    if (!live || live.id !== connectionId) return;
    const strategy = this.opts.keepalive ?? DEFAULT_KEEPALIVE;
    const started = this.now();
    const plan = probePlan(strategy, this.lastPresenceAt, started, this.opts.presenceEveryMs ?? DEFAULT_PRESENCE_EVERY_MS);
    try {
      for (const kind of plan) {
        await live.conn.probe(kind);
        if (kind === 'presence') this.lastPresenceAt = started;
      }
      const rttMs = this.now() - started;
      this.send({ type: 'ProbeAnswered', probeId, rttMs });
      // Every probe: metrics, status and consumers count them. Sampling would save little
      // stream space, as each cycle already publishes its three transitions.
      this.opts.sink({ account: this.account, type: 'keepalive', probe: plan.includes('ping') ? 'ping' : 'presence', outcome: 'ok', rttMs });
    } catch (err) {
      // The machine's probe timer decides what a missing answer means.
      this.log.debug({ err, probeId }, 'probe failed');
    }
  }

  private dispatch(id: string, connectionId: number): void {
    const live = this.current;
    if (!live || live.id !== connectionId) return; // the close that ended it requeues the send
    live.sendChain = live.sendChain.then(() => this.sendOne(id, live));
  }

  private async sendOne(id: string, live: LiveConnection): Promise<void> {
    const connectionId = live.id;
    if (this.current !== live) return; // closed while queued: requeued on close
    const payload = this.outbound.payload(id);
    if (!payload) {
      // Only a bug gets here; fail loudly rather than leave the send in flight forever.
      this.log.error({ sendId: id }, 'dispatch of a send without payload');
      this.send({ type: 'SendRejected', id, error: 'payload missing' });
      return;
    }
    const waMessageId = this.outbound.waMessageId(payload);
    this.sendFacts.started(id, waMessageId);
    try {
      await live.conn.sendText(payload.to, payload.text, waMessageId);
      this.sendFacts.written(id);
    } catch (err) {
      this.sendFacts.abandoned(id);
      // The socket is going away (its close may come after this error): the send stays
      // in flight and the close requeues it.
      if (this.current?.id !== connectionId || isConnectionGone(err)) return;
      // Refused before it reached the wire (no such number, encryption failed): it would
      // fail the same way again, so it fails now rather than sit in flight.
      const message = err instanceof Error ? err.message : String(err);
      this.log.warn({ sendId: id, err: message }, 'send failed before reaching WhatsApp');
      this.send({ type: 'SendRejected', id, error: message });
    }
  }

  private onServerAck(waMessageId: string, error: string | undefined): void {
    const id = this.outbound.sendIdOf(waMessageId);
    if (!id) return;
    if (error) {
      this.sendFacts.written(id);
      this.send({ type: 'SendRejected', id, error: `WhatsApp refused the message (error ${error})` });
      return;
    }
    this.outbound.acked(id, waMessageId);
    this.send({ type: 'SendAcked', id });
    this.sendFacts.acked(id, 'server');
  }

  private onInbound(m: InboundMessage): void {
    if (this.seenInbound.has(m.waMessageId)) return;
    this.seenInbound.set(m.waMessageId, true);
    this.opts.sink({
      account: this.account,
      type: 'message.in',
      waMessageId: m.waMessageId,
      from: m.from,
      chat: m.chat,
      ...(m.text !== undefined ? { text: m.text } : {}),
      timestamp: new Date(m.timestamp).toISOString(),
    });
  }

  private armTimer(request: TimerRequest): void {
    this.timer.arm(request, ({ at, armedAt, lateMs }) => {
      const { fires: type, token } = request;
      if (type !== 'ProbeTimedOut' && type !== 'AckTimedOut') return this.send({ type, token, at } as AccountEvent);
      // Late by more than the threshold, or a stall recorded meanwhile: the loop, not
      // the link, may be why no answer was read.
      const stalledMs = Math.max(lateMs, this.opts.loop.maxStallSince(armedAt));
      if (type === 'ProbeTimedOut') {
        this.opts.sink({
          account: this.account,
          type: 'keepalive',
          probe: (this.opts.keepalive ?? DEFAULT_KEEPALIVE) === 'presence' ? 'presence' : 'ping',
          outcome: stalledMs >= this.snapshot().context.timings.stallThresholdMs ? 'stalled' : 'timeout',
          loopDelayMs: stalledMs,
        });
      }
      this.send({ type, token, at, stalledMs });
    });
  }

  private clearCredentials(): void {
    const previous = this.pendingClear ?? Promise.resolve();
    this.pendingClear = previous
      .then(() => this.opts.auth.clear())
      .catch((err: unknown) => this.log.error({ err }, 'clearing credentials failed'))
      .finally(() => {
        this.pendingClear = null;
      });
  }
}
