/**
 * One account, running: the account machine, with its IO implemented by one small part
 * per job — the socket (socket-io.ts), sends with their deadlines (send-io.ts), the
 * keepalive probe and timer firings (probe-io.ts), the pairing-code wait
 * (pairing-code.ts), the session's facts and credentials (session-facts.ts), and inbound
 * messages (inbound.ts), groups, reads and chat state (chat-io.ts). The machine decides;
 * these only perform what it asks and report what happened, on one injected clock.
 */
import type { AuthenticationState } from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import { createActor, type Actor, type InspectionEvent } from 'xstate';
import {
  accountMachine,
  stateName,
  type AccountEvent,
  type AccountStateName,
  type AccountTimings,
  type IoParams,
} from '../../machines/index.js';
import { WaError, type KeepaliveStrategy } from '../contract/index.js';
import { systemClock, type Clock } from './clock.js';
import { ChatIo } from './chat-io.js';
import { Inbound } from './inbound.js';
import type { LoopMonitor } from './loop-monitor.js';
import { publishMachineRecords } from './machine-records.js';
import { MachineTimer, type AccountTimer } from './machine-timer.js';
import { PairingCode } from './pairing-code.js';
import type { FactSink, MediaPort, OutgoingSend } from './port.js';
import { ProbeIo } from './probe-io.js';
import { SendIo } from './send-io.js';
import { SessionFacts } from './session-facts.js';
import { SocketIo } from './socket-io.js';

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
  /** `media.download`: received media is downloaded and decrypted into `WA_MEDIA` (default true). */
  media?: { download?: boolean };
}

export interface AccountRuntimeOptions extends AccountSettings {
  account: string;
  auth: AccountAuth;
  sink: FactSink;
  logger: Logger;
  loop: LoopMonitor;
  /** `WA_MEDIA` (see `GatewayOptions.media`). */
  mediaStore?: MediaPort;
  /** WebSocket URL; undefined = WhatsApp's own. */
  waWebSocketUrl?: string;
  /** Baileys' own logger (quiet by default: it logs at info per frame kind). */
  baileysLogger?: Logger;
  seed?: number;
  /** Real time unless a test moves it. */
  clock?: Clock;
  /** XState inspection hook (the Stately inspector, coverage in tests). */
  inspect?: (event: InspectionEvent) => void;
  /** The machine's timers and send deadlines, on `clock`; tests fire them by hand. */
  timer?: AccountTimer;
}

export class AccountRuntime {
  readonly account: string;
  private readonly actor: Actor<typeof accountMachine>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly timer: AccountTimer;
  private readonly socket: SocketIo;
  private readonly sends: SendIo;
  private readonly probes: ProbeIo;
  private readonly pairing: PairingCode;
  private readonly session: SessionFacts;
  private readonly inbound: Inbound;
  readonly chat: ChatIo; // groups, read receipts, chat state

  constructor(private readonly opts: AccountRuntimeOptions) {
    const { account, sink } = opts;
    this.account = account;
    const log = (this.log = opts.logger);
    const clock = (this.clock = opts.clock ?? systemClock);
    this.timer = opts.timer ?? new MachineTimer(clock);
    const send = (event: AccountEvent) => this.send(event);
    const snapshot = () => this.snapshot();
    const state = () => this.state();
    this.session = new SessionFacts({
      account,
      auth: opts.auth,
      sink,
      log,
      clock,
      recycleAheadOfDrops: opts.recycleAheadOfDrops !== false,
      state,
      recycle: (reason) => this.recycle(reason),
    });
    this.inbound = new Inbound(account, sink, { log, media: opts.mediaStore, download: opts.media?.download });
    this.pairing = new PairingCode(clock, log);
    this.probes = new ProbeIo({
      account,
      sink,
      log,
      clock,
      loop: opts.loop,
      ...keepaliveOf(opts),
      send,
      timings: () => snapshot().context.timings,
    });
    this.sends = new SendIo({
      account,
      sink,
      log,
      timer: this.timer,
      send,
      snapshot,
      current: () => this.socket.current(),
      ...(opts.mediaStore ? { media: opts.mediaStore } : {}),
    });
    this.chat = new ChatIo({ account, sink, log, open: () => this.socket.currentIf(this.state()), sends: this.sends });
    this.socket = new SocketIo({
      account,
      auth: opts.auth,
      sink,
      log,
      clock,
      ...(opts.waWebSocketUrl ? { waWebSocketUrl: opts.waWebSocketUrl } : {}),
      ...(opts.baileysLogger ? { baileysLogger: opts.baileysLogger } : {}),
      send,
      connectTimeoutMs: () => snapshot().context.timings.connectTimeoutMs,
      credentialsSettled: () => this.session.credentialsSettled(),
      on: {
        serverAck: (waId, error) => this.sends.serverAck(waId, error),
        receipt: (waId, ack) => this.sends.receipt(waId, ack),
        inbound: (m) => this.inbound.received(m, this.chat),
        undecryptable: (m) => this.inbound.failedToDecrypt(m),
        ...this.chat.hooks(),
        getMessage: (waId) => this.sends.message(waId),
        pairingCode: (conn, phone, connectionId) =>
          this.pairing.request(conn, phone, () => send({ type: 'PairingCodeIssued', connectionId })),
      },
    });
    this.actor = createActor(accountMachine.provide({ actions: this.io() }), {
      ...(opts.inspect ? { inspect: opts.inspect } : {}),
      input: {
        account,
        seed: opts.seed ?? Math.floor(Math.random() * 2 ** 32),
        ...(opts.timings ? { timings: opts.timings } : {}),
        ...(opts.inboundResetsIdle !== undefined ? { inboundResetsIdle: opts.inboundResetsIdle } : {}),
      },
    });
    publishMachineRecords(this.actor, {
      account,
      log,
      sink,
      transition: (r) => {
        this.session.transition(r);
        if (r.to === 'open') this.chat.opened();
      },
    });
    this.actor.subscribe({ error: (err) => log.error({ err }, 'account machine failed') });
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
    await this.session.credentialsSettled();
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
    const code = this.pairing.wait();
    this.send({ type: 'Pair', phone });
    return { method: 'code', code: await code };
  }

  isPaired(): boolean {
    return this.session.isPaired();
  }

  /** A recorded send, handed over once (send-io.ts); every outcome comes back as a fact. */
  submit(send: OutgoingSend): 'dispatched' | 'held' | 'refused' {
    return this.sends.submit(send);
  }

  /** Stop for good: drain, close, release the credentials. */
  async stop(deadlineMs = 5_000): Promise<void> {
    this.send({ type: 'Disconnect' });
    const until = this.clock.now() + deadlineMs;
    while (this.state() !== 'stopped' && this.state() !== 'loggedOut' && this.clock.now() < until) {
      await new Promise<void>((resolve) => {
        const cancel = this.clock.after(Math.max(0, until - this.clock.now()), resolve, { keepAlive: false });
        const sub = this.actor.subscribe(() => {
          sub.unsubscribe();
          cancel();
          resolve();
        });
      });
    }
    this.socket.end();
    this.timer.clear();
    this.session.stop();
    this.actor.stop();
    await this.opts.auth.close();
  }

  private send(event: AccountEvent): void {
    this.actor.send(event);
  }

  /** The machine's IO (machines/account/io.ts), each action handed to the job that owns it. */
  private io() {
    type Impl<K extends keyof IoParams> = (_: unknown, params: IoParams[K]) => void;
    const openSocket: Impl<'openSocket'> = (_, p) => void this.socket.open(p.connectionId, p.pairPhone);
    const closeSocket: Impl<'closeSocket'> = (_, p) => this.socket.close(p.connectionId);
    const sendProbe: Impl<'sendProbe'> = (_, p) => {
      const live = this.socket.current();
      if (live && live.id === p.connectionId) void this.probes.probe(live.conn, p.probeId);
    };
    const dispatchSend: Impl<'dispatchSend'> = (_, p) => this.sends.dispatch(p.id, p.connectionId);
    const failSend: Impl<'failSend'> = (_, p) => this.sends.failed(p);
    const expireSend: Impl<'expireSend'> = (_, p) => this.sends.expired(p.id);
    const startTimer: Impl<'startTimer'> = (_, request) =>
      this.timer.arm(request, (firing) => this.probes.fired(request, firing));
    const stopTimer: Impl<'stopTimer'> = (_, p) => this.timer.clear(p.slot);
    const logout: Impl<'logout'> = () => {
      const live = this.socket.detach();
      if (live)
        live.conn
          .logout()
          .catch((err: unknown) => this.log.warn({ err }, 'logout at WhatsApp failed; credentials cleared locally'));
      this.session.clearCredentials();
    };
    const clearCredentials = () => this.session.clearCredentials();
    return {
      openSocket,
      closeSocket,
      sendProbe,
      dispatchSend,
      failSend,
      expireSend,
      startTimer,
      stopTimer,
      logout,
      clearCredentials,
    };
  }
}

/** The keepalive settings, without undefined ones (exactOptionalPropertyTypes). */
function keepaliveOf(o: AccountSettings): { keepalive?: KeepaliveStrategy; presenceEveryMs?: number } {
  return {
    ...(o.keepalive !== undefined ? { keepalive: o.keepalive } : {}),
    ...(o.presenceEveryMs !== undefined ? { presenceEveryMs: o.presenceEveryMs } : {}),
  };
}
