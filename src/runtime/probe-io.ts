/**
 * The keepalive's IO: the probe the machine asks for (ping IQ, presence, or both, per
 * strategy), and the machine's timer firings, where a probe or ack deadline that passed
 * while the event loop stalled is told apart from a dead link. The machine decides
 * what a missing answer means; this reports what happened, as events and facts.
 */
import type { Logger } from 'pino';
import type { AccountEvent, AccountTimings, TimerRequest } from '../../machines/index.js';
import type { BaileysConnection } from '../baileys/connection.js';
import type { KeepaliveStrategy } from '../contract/index.js';
import type { Clock } from './clock.js';
import { DEFAULT_KEEPALIVE, DEFAULT_PRESENCE_EVERY_MS, probePlan } from './keepalive.js';
import type { LoopMonitor } from './loop-monitor.js';
import type { TimerFiring } from './machine-timer.js';
import type { FactSink } from './port.js';

export interface ProbeIoOptions {
  account: string;
  sink: FactSink;
  log: Logger;
  clock: Clock;
  loop: LoopMonitor;
  keepalive?: KeepaliveStrategy;
  presenceEveryMs?: number;
  /** The machine: where answers and firings go, and its timings. */
  send(event: AccountEvent): void;
  timings(): AccountTimings;
}

export class ProbeIo {
  private lastPresenceAt: number | null = null;

  constructor(private readonly o: ProbeIoOptions) {}

  private get strategy(): KeepaliveStrategy {
    return this.o.keepalive ?? DEFAULT_KEEPALIVE;
  }

  async probe(conn: BaileysConnection, probeId: number): Promise<void> {
    const started = this.o.clock.now();
    const plan = probePlan(
      this.strategy,
      this.lastPresenceAt,
      started,
      this.o.presenceEveryMs ?? DEFAULT_PRESENCE_EVERY_MS,
    );
    try {
      for (const kind of plan) {
        await conn.probe(kind);
        if (kind === 'presence') this.lastPresenceAt = started;
      }
      const rttMs = this.o.clock.now() - started;
      this.o.send({ type: 'ProbeAnswered', probeId, rttMs });
      // Every probe: metrics, status and consumers count them. Sampling would save little
      // stream space, as each cycle already publishes its three transitions.
      this.o.sink({
        account: this.o.account,
        type: 'keepalive',
        probe: plan.includes('ping') ? 'ping' : 'presence',
        outcome: 'ok',
        rttMs,
      });
    } catch (err) {
      // The machine's probe timer decides what a missing answer means.
      this.o.log.debug({ err, probeId }, 'probe failed');
    }
  }

  /** One of the machine's timers fired: the event it becomes. */
  fired(request: TimerRequest, { at, armedAt, lateMs }: TimerFiring): void {
    const { fires: type, token } = request;
    if (type !== 'ProbeTimedOut' && type !== 'AckTimedOut') return this.o.send({ type, token, at } as AccountEvent);
    // Late by more than the threshold, or a stall recorded meanwhile: the loop, not
    // the link, may be why no answer was read.
    const stalledMs = Math.max(lateMs, this.o.loop.maxStallSince(armedAt));
    if (type === 'ProbeTimedOut') {
      this.o.sink({
        account: this.o.account,
        type: 'keepalive',
        probe: this.strategy === 'presence' ? 'presence' : 'ping',
        outcome: stalledMs >= this.o.timings().stallThresholdMs ? 'stalled' : 'timeout',
        loopDelayMs: stalledMs,
      });
    }
    this.o.send({ type, token, at, stalledMs });
  }
}
