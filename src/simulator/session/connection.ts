// One client socket: Noise handshake, login, then one binary node at a time. Frames are
// handled strictly in order (a promise chain), because transport counters and Signal
// sessions are order-sensitive. Any failure closes this connection only, with a log line.
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import { decodeBinaryNode, encodeBinaryNode, type BinaryNode } from '../wa.js';
import { FrameReader, frame } from '../protocol/frame-reader.js';
import { NoiseResponder, type NoiseTransport } from '../protocol/noise-responder.js';
import { SimulatorError, isSimulatorError } from '../errors.js';
import { CLOSE_AFTER_ERROR_GRACE_MS, HANDSHAKE_DEADLINE_MS } from '../timing.js';
import { DEFAULT_RECEIPTS, type FaultAction, type FaultConditions, type TrafficKind } from '../faults/faults.js';
import type { Account, QueuedInbound } from '../accounts/account.js';
import type { SimulatorContext } from './context.js';
import { login } from './login.js';
import { classify, dispatch } from './dispatch.js';
import { FaultEffects } from './fault-effects.js';
import { describeSession, type SessionInfo } from './session-registry.js';
import type { PendingPairing } from './pairing.js';

export type ConnectionState = 'handshake' | 'awaiting-finish' | 'pairing' | 'logged-in' | 'closed';

/** WebSocket close code when the peer broke the protocol (RFC 6455 §7.4.1). */
const WS_PROTOCOL_ERROR = 1002;

export class Connection {
  readonly id: string;
  readonly connectedAt = Date.now();
  state: ConnectionState = 'handshake';
  account: Account | undefined;
  log: Logger;
  clientStatic: Buffer | undefined;
  routingInfo: Buffer | undefined;
  lastTrafficAt = Date.now();
  lastTrafficKind: TrafficKind | undefined;
  /** Received stanzas by kind (a handful of numbers: cheap even for 1,000 sessions). */
  readonly trafficCounts: Partial<Record<TrafficKind, number>> = {};
  /** Inbound messages sent but not yet acknowledged by a client receipt. */
  readonly pendingInbound = new Map<string, QueuedInbound>();
  /** True once the offline queue was flushed: later inbound messages go out directly. */
  readyForDelivery = false;
  deliveryChain: Promise<void> = Promise.resolve();
  pairing: PendingPairing | undefined;

  private readonly reader = new FrameReader();
  private noise: NoiseResponder | undefined;
  private transport: NoiseTransport | undefined;
  private inbox: Promise<void> = Promise.resolve();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly awaiting = new Map<string, (node: BinaryNode) => void>();
  private nextIqId = 1;
  private readonly effects = new FaultEffects(this);
  private handshakeTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly ws: WebSocket,
    readonly remote: string,
    readonly ctx: SimulatorContext,
  ) {
    this.id = ctx.sessions.newId();
    this.log = ctx.logger.child({ connectionId: this.id });
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => this.onData(toBuffer(data)));
    ws.on('ping', (data: Buffer) => this.onWsPing(data));
    ws.on('close', (code: number) => this.onClosed(code));
    ws.on('error', (err: Error) => this.log.warn({ err: err.message }, 'socket error'));
    this.handshakeTimer = this.later(HANDSHAKE_DEADLINE_MS, () => {
      if (this.state === 'handshake' || this.state === 'awaiting-finish')
        this.fail(new SimulatorError('handshake_failed', 'handshake deadline passed'));
    });
  }

  /** Effective fault conditions for this connection (its account's, else global). */
  faults(): FaultConditions {
    return this.ctx.faults.effective(this.account?.phone);
  }

  receipts(): NonNullable<FaultConditions['receipts']> {
    return this.faults().receipts ?? DEFAULT_RECEIPTS;
  }

  get silenced(): boolean {
    return this.faults().silence === true;
  }

  nextId(): string {
    return `sim.${this.id}-${this.nextIqId++}`;
  }

  /** Sends a node unless the link is silenced (or frozen); returns whether it was written. */
  send(node: BinaryNode): boolean {
    if (this.silenced || this.effects.frozen) return false;
    return this.sendAlways(node);
  }

  /** Sends a server-initiated IQ and calls `onReply` with the client's result/error. */
  request(node: BinaryNode, onReply: (reply: BinaryNode) => void): void {
    const id = node.attrs.id ?? this.nextId();
    node.attrs.id = id;
    this.awaiting.set(id, onReply);
    this.send(node);
  }

  /** A timer owned by this connection: cleared when it closes. */
  later(ms: number, fn: () => void): NodeJS.Timeout | undefined {
    if (this.state === 'closed') return undefined;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.state !== 'closed') fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  /** Cancels a timer of `later` before it fires. */
  cancel(t: NodeJS.Timeout): void {
    clearTimeout(t);
    this.timers.delete(t);
  }

  /** Runs `fn` now when `ms` is 0, else after `ms` (latency faults). */
  afterDelay(ms: number | undefined, fn: () => void): void {
    if (!ms) fn();
    else this.later(ms, fn);
  }

  bindAccount(account: Account): void {
    this.account = account;
    this.log = this.log.child({ account: account.phone });
    const replaced = this.ctx.sessions.bind(account.phone, this);
    if (replaced && replaced.state !== 'closed') {
      replaced.log.info({ by: this.id }, 'session replaced by a newer login');
      replaced.apply({ type: 'conflict' }, 'replaced');
    }
  }

  /** The handshake finished: its deadline no longer applies (no idle per-session timers). */
  handshakeDone(): void {
    if (!this.handshakeTimer) return;
    this.cancel(this.handshakeTimer);
    this.handshakeTimer = undefined;
  }

  loggedIn(): void {
    this.state = 'logged-in';
    this.effects.loggedIn();
  }

  /** Carries out a fault action (or a protocol-mandated close, like 515 after pairing). */
  apply(action: FaultAction, why: string): void {
    this.effects.apply(action, why);
  }

  /** (Re)arms policy timers after login or when faults change; no timers without a policy. */
  applyPolicies(): void {
    this.effects.applyPolicies();
  }

  describe(): SessionInfo {
    return describeSession(this);
  }

  // --- receiving -------------------------------------------------------------------------

  private onData(data: Buffer): void {
    if (this.state === 'closed') return;
    let frames: Buffer[];
    try {
      frames = this.reader.push(data);
    } catch (err) {
      this.fail(err);
      return;
    }
    for (const f of frames) {
      this.inbox = this.inbox.then(() => this.onFrame(f)).catch((err: unknown) => this.fail(err));
    }
  }

  private async onFrame(data: Buffer): Promise<void> {
    if (this.state === 'closed') return;
    switch (this.state) {
      case 'handshake': {
        const intro = this.reader.introduction;
        if (!intro) throw new SimulatorError('handshake_failed', 'frame before intro');
        this.routingInfo = intro.routingInfo;
        this.noise = new NoiseResponder(this.ctx.identity, intro.header);
        const hello = this.noise.respondToHello(data);
        this.touch('other');
        // A globally silenced server does not even answer handshakes (half-open from the start).
        if (this.ctx.faults.effective(undefined).silence) return;
        this.state = 'awaiting-finish';
        this.ws.send(frame(hello));
        return;
      }
      case 'awaiting-finish': {
        if (!this.noise) throw new SimulatorError('handshake_failed', 'finish without hello');
        const result = this.noise.finish(data);
        this.noise = undefined;
        this.transport = result.transport;
        this.clientStatic = result.clientStatic;
        this.handshakeDone();
        this.touch('other');
        login(this, result.payload);
        return;
      }
      default: {
        if (!this.transport) throw new SimulatorError('protocol_error', 'no transport');
        let node: BinaryNode;
        try {
          node = await decodeBinaryNode(this.transport.decrypt(data));
        } catch (err) {
          throw new SimulatorError('protocol_error', 'undecodable frame', { cause: err });
        }
        const kind = classify(node);
        this.touch(kind);
        if (this.silenced) return;
        if (node.tag === 'iq' && (node.attrs.type === 'result' || node.attrs.type === 'error')) {
          const id = node.attrs.id;
          const waiter = id === undefined ? undefined : this.awaiting.get(id);
          if (id !== undefined && waiter) {
            this.awaiting.delete(id);
            waiter(node);
            return;
          }
        }
        await dispatch(this, node);
      }
    }
  }

  private onWsPing(data: Buffer): void {
    this.touch('ws-ping');
    if (!this.silenced && this.state !== 'closed') this.ws.pong(data);
  }

  private touch(kind: TrafficKind): void {
    const now = Date.now();
    this.lastTrafficAt = now;
    this.lastTrafficKind = kind;
    this.trafficCounts[kind] = (this.trafficCounts[kind] ?? 0) + 1;
    this.effects.activity(kind, now);
  }

  // --- sending and closing -----------------------------------------------------------------

  /** Sends a node even on a silenced link (a fault's own stream error), unless frozen. */
  sendAlways(node: BinaryNode): boolean {
    if (this.effects.frozen || this.state === 'closed' || !this.transport || this.ws.readyState !== this.ws.OPEN)
      return false;
    this.ws.send(frame(this.transport.encrypt(encodeBinaryNode(node))));
    return true;
  }

  /** Bad input from the peer: log it (never its content) and close this socket only. */
  fail(err: unknown): void {
    if (this.state === 'closed') return;
    const code = isSimulatorError(err) ? err.code : 'protocol_error';
    const message = err instanceof Error ? err.message : String(err);
    this.log.warn({ code, reason: message, state: this.state }, 'closing connection after bad input');
    try {
      this.ws.close(WS_PROTOCOL_ERROR);
    } catch {
      this.ws.terminate();
    }
    // A peer that ignores our close frame must not keep the socket forever.
    this.later(CLOSE_AFTER_ERROR_GRACE_MS * 4, () => this.ws.terminate());
  }

  private onClosed(code: number): void {
    if (this.state === 'closed') return;
    const wasLoggedIn = this.state === 'logged-in';
    this.state = 'closed';
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.effects.closed();
    this.awaiting.clear();
    this.ctx.sessions.remove(this);
    this.ctx.pairing.forget(this);
    if (wasLoggedIn) this.ctx.delivery.requeue(this);
    this.log.info({ code }, 'connection closed');
  }
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
