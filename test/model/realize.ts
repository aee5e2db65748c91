// Runs paths generated from the account machine against the real system: the real
// Gateway on real Baileys, against the simulator. Each model event is *produced*: a
// gateway command, a simulator fault, the machine's clock (a timer the test fires — the
// only thing not real time), or an event the real system produces by itself that the
// runner waits for. Each step's assertion reads the real gateway's published
// transitions, not the model.
import type { AnyTransitionDefinition, InspectionEvent } from 'xstate';
import pino from 'pino';
import {
  stateName,
  type AccountEvent,
  type AccountSnapshot,
  type AccountStateName,
  type TimerRequest,
  type TimerSlot,
} from '../../machines/index.js';
import { trustServerRoot } from '../../src/baileys/trust.js';
import { Gateway } from '../../src/runtime/gateway.js';
import { startLoopMonitor, type LoopMonitor } from '../../src/runtime/loop-monitor.js';
import type { AccountTimer, TimerFiring } from '../../src/runtime/machine-timer.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { FactLog, FAST_TIMINGS, memoryAccountAuth } from '../support/runtime-harness.js';
import type { AccountAuth } from '../../src/runtime/account-runtime.js';
import { fromBufferJson } from '../support/credentials.js';

const quiet = pino({ level: 'silent' });
/** Acks come this late, so a send is still in flight while a drain is observed. */
const ACK_LATENCY_MS = 250;
/** Acks are held back this long on a path where the ack deadline passes: a lost ack. */
const ACK_HELD_MS = 60_000;
/** Ping replies are held back this long: `pinging` lasts until the test acts. */
const PING_HELD_MS = 60_000;
/** A ping reply this late arrives after an inbound frame has ended `pinging`. */
const PING_LATE_MS = 300;
/** Busy-looped before a stalled probe deadline is fired: a real stall, seen by the loop monitor. */
const STALL_MS = 2 * FAST_TIMINGS.stallThresholdMs!;
const PEER = '4915100000077@s.whatsapp.net';
/** No frame for this long after a login: the server has said what it had to say. */
const QUIET_MS = 300;
/** A send's deadline on a path that expires it: far off, as the test fires it by hand. */
const DEADLINE_AHEAD_MS = 3_600_000;

/** Timers the test fires: the machine arms them, the runner decides when time has passed. */
class ManualTimer implements AccountTimer {
  readonly armed = new Map<TimerSlot, { request: TimerRequest; fire: (f: TimerFiring) => void; armedAt: number }>();
  readonly deadlines = new Map<string, () => void>();

  arm(request: TimerRequest, fire: (f: TimerFiring) => void): void {
    this.armed.set(request.slot, { request, fire, armedAt: Date.now() });
  }

  clear(slot?: TimerSlot): void {
    if (slot !== undefined) return void this.armed.delete(slot);
    this.armed.clear();
    this.deadlines.clear();
  }

  armDeadline(id: string, _at: number, fire: () => void): void {
    this.deadlines.set(id, fire);
  }

  clearDeadline(id: string): void {
    this.deadlines.delete(id);
  }

  /** The send's deadline passes now. */
  fireDeadline(id: string): void {
    const fire = this.deadlines.get(id);
    if (!fire) throw new Error(`no deadline armed for ${id}`);
    this.deadlines.delete(id);
    fire();
  }

  fire(expected: string): void {
    const slot: TimerSlot = expected === 'AckTimedOut' ? 'ack' : 'state';
    const armed = this.armed.get(slot);
    if (!armed) throw new Error(`no timer armed to fire ${expected}`);
    if (armed.request.fires !== expected)
      throw new Error(`armed timer fires ${armed.request.fires}, the path wants ${expected}`);
    this.armed.delete(slot);
    const at = Date.now();
    armed.fire({ at, armedAt: armed.armedAt, lateMs: 0 });
  }
}

export interface RealStep {
  event: AccountEvent;
  state: AccountSnapshot;
}

export class RealSystem {
  readonly facts = new FactLog();
  readonly taken: AnyTransitionDefinition[] = [];
  readonly reached = new Set<AccountStateName>();
  private readonly timers = new Map<string, ManualTimer>();
  private readonly auths = new Map<string, AccountAuth>();
  private readonly phones = new Map<string, string>();
  private readonly qrs = new Map<string, string>();
  private readonly codes = new Map<string, string>();
  private counter = 0;
  /** Index in the fact log after the last transition a step has matched. */
  private cursor = 0;
  private readonly lastFrameAt = new Map<string, number>();

  private constructor(
    readonly sim: RunningSimulator,
    readonly gateway: Gateway,
    private readonly loop: LoopMonitor,
  ) {}

  static async start(): Promise<RealSystem> {
    const sim = await startSimulator();
    trustServerRoot(sim.rootPublicKey, quiet);
    const loop = startLoopMonitor();
    let self: RealSystem | null = null;
    const gateway = new Gateway({
      sink: (f) => self?.facts.sink(f),
      logger: quiet,
      loop,
      waWebSocketUrl: sim.wsUrl,
      defaults: { timings: FAST_TIMINGS, recycleAheadOfDrops: false },
      authFor: async (account) => self?.auths.get(account) ?? memoryAccountAuth(),
      timerFor: (account) => {
        const t = new ManualTimer();
        self?.timers.set(account, t);
        return t;
      },
      inspect: (account, ev: InspectionEvent) => {
        if (ev.type === '@xstate.microstep') self?.taken.push(...ev._transitions);
        if (ev.type === '@xstate.event' && ev.event.type === 'InboundReceived')
          self?.lastFrameAt.set(account, Date.now());
      },
    });
    self = new RealSystem(sim, gateway, loop);
    return self;
  }

  async close(): Promise<void> {
    await this.gateway.close();
    this.loop.stop();
    await this.sim.close();
  }

  /** Plays one generated path on a fresh account; throws where reality and model part. */
  async play(steps: RealStep[], paired: boolean, settings: { inboundResetsIdle?: boolean } = {}): Promise<void> {
    const account = `m${++this.counter}`;
    const has = (pred: (s: RealStep, before: AccountStateName) => boolean) =>
      steps.some((s, i) => i > 0 && pred(s, stateName(steps[i - 1]!.state)));
    const needsProbeAnswer = has((s) => s.event.type === 'ProbeAnswered');
    const inboundWhilePinging = has((s, before) => s.event.type === 'InboundReceived' && before === 'pinging');
    const rejects = has((s) => s.event.type === 'SendRejected');
    const ackLost = has((s) => s.event.type === 'AckTimedOut');
    if (has((s) => s.event.type === 'Expire')) this.expiring.add(account);
    if (paired) {
      const p = this.sim.provisionAccount();
      this.phones.set(account, p.account.phone);
      this.auths.set(account, memoryAccountAuth(fromBufferJson(p.creds), fromBufferJson(p.keys)));
      this.sim.setFaults(
        {
          ackLatencyMs: ackLost ? ACK_HELD_MS : ACK_LATENCY_MS,
          // Held back: `pinging` lasts until the test acts; or late, answering after an
          // inbound frame ended `pinging` (a probe answered in `open`).
          ...(needsProbeAnswer ? {} : { pingLatencyMs: inboundWhilePinging ? PING_LATE_MS : PING_HELD_MS }),
          ...(rejects ? { rejectSends: { error: '479' } } : {}),
        },
        p.account.phone,
      );
    }
    this.facts.facts.length = 0;
    this.cursor = 0;
    // A presence probe has no reply: it is answered as soon as it is written, so `pinging`
    // ends by ProbeAnswered; a held-back ping keeps `pinging` until the test acts.
    await this.gateway.add(account, { connect: false, keepalive: needsProbeAnswer ? 'presence' : 'ping', ...settings });
    try {
      for (const [i, step] of steps.entries()) {
        if (i === 0) continue; // the initial state
        const before = stateName(steps[i - 1]!.state);
        const expected = stateName(step.state);
        // Faults that decide the next login are set before anything can start it.
        if (before !== 'connecting') this.prepareNextLogin(account, steps, i);
        await this.produce(account, before, step.event);
        await this.expectState(account, before, expected, step.event);
        this.reached.add(expected);
        // A refused login re-entered `connecting`: the next login is already on its way.
        if (expected === 'connecting') this.prepareNextLogin(account, steps, i + 1);
        // After a login the server still talks for a moment (offline notice, receipts);
        // any frame ends `pinging`, so the next step waits for the link to go quiet.
        // (Not with a send in flight: its ack is due, and only a drain may follow it.)
        if (expected === 'open' && step.event.type === 'SocketOpened' && step.state.context.inFlight.length === 0)
          await this.quiet(account);
      }
    } finally {
      this.sim.clearFaults(this.phones.get(account));
      await this.gateway.remove(account).catch(() => undefined);
    }
  }

  /**
   * The first step from `from` on that happens while a login is in progress decides how
   * that login must end: refused with a code, never answered, or accepted.
   */
  private prepareNextLogin(account: string, steps: RealStep[], from: number): void {
    const phone = this.phones.get(account);
    if (!phone) return;
    for (let k = from; k < steps.length; k++) {
      if (stateName(steps[k - 1]!.state) !== 'connecting') continue;
      const e = steps[k]!.event;
      this.sim.clearFaults(phone, ['loginFailure', 'silence']);
      if (e.type === 'SocketClosed' && e.statusCode !== undefined)
        this.sim.setFaults({ loginFailure: { reason: e.statusCode } }, phone);
      if (e.type === 'ConnectTimedOut') this.sim.setFaults({ silence: true }, phone);
      return;
    }
  }

  private async produce(account: string, state: AccountStateName, event: AccountEvent): Promise<void> {
    const g = this.gateway;
    const phone = this.phones.get(account);
    const timer = this.timers.get(account)!;
    switch (event.type) {
      case 'Connect':
        g.connect(account);
        return;
      case 'Disconnect':
        g.disconnect(account);
        return;
      case 'Logout':
        await g.logout(account);
        return;
      case 'Recycle':
        g.runtime(account).recycle(event.reason ?? 'model');
        return;
      case 'Pair':
        if (event.phone) this.pairPhones.set(account, event.phone.replace(/\D/g, ''));
        void g.pair(account, event.phone?.replace(/\D/g, '')).then(
          (r) => r.code && this.codes.set(account, r.code),
          () => undefined,
        );
        return;
      case 'Send': {
        const deadline = this.expiring.has(account)
          ? { deadline: new Date(Date.now() + DEADLINE_AHEAD_MS).toISOString() }
          : {};
        g.submit(account, { id: `${account}-${event.id}`, to: PEER, text: event.id, ...deadline });
        return;
      }
      case 'SendAcked':
        await this.facts.until(`ack in ${account}`, () => this.facts.of('send.acked', account)[0]);
        return;
      case 'SendRejected':
        // rejectSends was set for this path: the error ack comes ACK_LATENCY_MS after the send.
        await this.facts.until(`refusal in ${account}`, () => this.facts.of('send.failed', account)[0]);
        return;
      case 'Expire': {
        // The runtime times the deadline; the machine expires the send only if still held.
        const id = `${account}-${event.id}`;
        timer.fireDeadline(id);
        await this.facts.until(`${id} expired`, () => this.facts.of('send.expired', account).find((f) => f.id === id));
        return;
      }
      case 'SocketOpened':
      case 'QrReceived':
      case 'PairingCodeIssued':
      case 'ProbeAnswered':
        return; // the real system produces these by itself; expectState waits for them
      case 'InboundReceived': {
        if (!phone) throw new Error('inbound needs a provisioned account');
        const { id } = this.sim.pushInbound({ account: phone, from: '4915100000078', text: 'model' });
        // The frame has been read once the message is published.
        await this.facts.until(`inbound in ${account}`, () =>
          this.facts.of('message.in', account).find((m) => m.waMessageId === id),
        );
        // In `pinging` the late ping reply follows: a probe answered after pinging ended.
        if (state === 'pinging')
          await this.facts.until(`late probe answer in ${account}`, () =>
            this.facts.of('keepalive', account).find((k) => k.outcome === 'ok'),
          );
        return;
      }
      case 'SocketClosed':
        return this.serverClose(account, state, event.statusCode);
      case 'ConnectTimedOut':
      case 'IdleElapsed':
      case 'ProbeDue':
      case 'BackoffElapsed':
      case 'DrainTimedOut':
        timer.fire(event.type);
        return;
      case 'ProbeTimedOut':
      case 'AckTimedOut':
        // AckTimedOut: the path held the ack back (ACK_HELD_MS), as a server that lost it.
        if (event.stalledMs > 0) {
          const stalledFrom = Date.now();
          const until = stalledFrom + STALL_MS;
          while (Date.now() < until) {
            /* a real stall: the loop monitor records it */
          }
          // The deadline fires once the loop monitor has recorded the stall.
          await this.facts.until(
            'the stall recorded',
            () => (this.loop.maxStallSince(stalledFrom) > 0 ? true : undefined),
            5_000,
            10,
          );
        }
        timer.fire(event.type);
        return;
      default: {
        const unreachable: never = event;
        throw new Error(`unknown event ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** A close with `code`, made by the simulator the way the real server would. */
  private async serverClose(account: string, state: AccountStateName, code: number | undefined): Promise<void> {
    const phone = this.phones.get(account);
    if (state === 'connecting' || code === undefined) return; // a login refused by a preset fault, or our own close
    if (state === 'pairing' && code === 515) {
      const code8 = this.codes.get(account);
      if (code8) {
        const phoneOfCode = this.pairPhones.get(account)!;
        await this.facts.until(
          'companion hello',
          () => (this.sim.sessions().some((s) => s.pairing === 'code') ? true : undefined),
          10_000,
          20,
        );
        await this.sim.enterPairingCode(phoneOfCode, code8);
      } else {
        this.sim.scanQr(this.qr(account));
      }
      return;
    }
    const target = phone; // undefined for an unpaired session: it is the only one the simulator has
    if (code === 401) this.sim.inject({ type: 'failure', reason: 401 }, target);
    else if (code === 440) this.sim.inject({ type: 'conflict' }, target);
    else this.sim.inject({ type: 'stream-error', code }, target);
  }

  readonly pairPhones = new Map<string, string>();
  /** Accounts whose path expires a send: their sends carry a deadline. */
  private readonly expiring = new Set<string>();

  private quiet(account: string): Promise<unknown> {
    return this.facts.until(
      `${account} quiet for ${QUIET_MS} ms`,
      () => (Date.now() - (this.lastFrameAt.get(account) ?? 0) >= QUIET_MS ? true : undefined),
      10_000,
      25,
    );
  }

  private qr(account: string): string {
    const qr = this.facts.of('qr', account).at(-1)?.qr;
    if (!qr) throw new Error(`no QR for ${account}`);
    return qr;
  }

  /**
   * The real account's next published transition(s) lead into `expected`. Transitions are
   * consumed in order, so one that happened early (a refused login is quick) still counts
   * for its step; a self-loop in the model must leave the real account where it was.
   */
  private async expectState(
    account: string,
    before: AccountStateName,
    expected: AccountStateName,
    event: AccountEvent,
  ): Promise<void> {
    const next = () => {
      const facts = this.facts.facts;
      for (let i = this.cursor; i < facts.length; i++) {
        const f = facts[i]!;
        if (f.type === 'transition' && f.account === account && f.to === expected) return i;
      }
      return undefined;
    };
    const reentered = event.type === 'SocketClosed' || event.type === 'ProbeTimedOut';
    if (before === expected && !reentered) {
      if (this.gateway.state(account) !== expected)
        throw new Error(
          `after ${event.type} the real account is ${this.gateway.state(account)}, the model stays in ${expected}`,
        );
      return;
    }
    const at = await this.facts
      .until(`${account}: ${event.type} leads ${before} → ${expected}`, next, 10_000)
      .catch((err: Error) => {
        const seen = this.facts.facts
          .filter((f) => f.type === 'transition')
          .map((f) => (f.type === 'transition' ? `${f.from}→${f.to}(${f.statusCode ?? ''})` : ''));
        throw new Error(`${err.message}; transitions: ${seen.join(' ')}`);
      });
    this.cursor = at + 1;
  }
}
