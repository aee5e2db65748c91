/**
 * The gateway's Prometheus metrics. Counters and histograms are folded from the events
 * this gateway stored in `WA_EVENTS` (what every NATS consumer sees, with the event's
 * own `at`, so a burst stored after a NATS outage still measures the right durations);
 * gauges are read at scrape time from the one status view (the projection), the event
 * layer's counters and the loop monitor. Nothing here touches an account or a socket.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ONLINE_STATES } from '../../machines/index.js';
import { ACCOUNT_STATES, type WaEvent } from '../contract/index.js';
import { registerEventMetrics, type EventCounters } from '../nats/counters.js';
import { deliveryProblemMetrics } from './delivery-problems.js';
import type { Projection } from '../nats/projection.js';
import type { LoopMonitor } from '../runtime/loop-monitor.js';
import { Lru } from '../runtime/lru.js';

/** States in which the link is up (`online`'s children). */
const ONLINE: ReadonlySet<string> = new Set(ONLINE_STATES);
/** Reconnects: from a blip (0.1 s) to a backoff at its cap and beyond. */
const RECONNECT_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Send latency, queued → server ack: loopback milliseconds to a send held through a reconnect. */
const SEND_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Keepalive round-trips: WhatsApp answers in tens of ms; seconds mean trouble. */
const RTT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Settled send ids remembered so a late `delivered`/`read` ack is not counted twice. */
const SETTLED_MEMORY = 10_000;

export interface MetricsOptions {
  counters: EventCounters;
  projection: Projection;
  loop: LoopMonitor;
  /** Accounts this gateway runs (labels of the scrape-time gauges). */
  accounts: () => string[];
  natsConnected: () => boolean;
  /** Node process metrics (`process_*`, `nodejs_*`); default true. */
  processMetrics?: boolean;
}

export interface GatewayMetrics {
  registry: Registry;
  /** Folds one stored event into the counters and histograms. */
  observe(event: WaEvent): void;
}

export function createMetrics(o: MetricsOptions): GatewayMetrics {
  const registry = new Registry();
  if (o.processMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    // prom-client names three gauges `nodejs_active_{handles,requests,resources}_total`;
    // `_total` means counter, so `promtool check metrics` fails the scrape. Their values
    // are the sums of the per-type `nodejs_active_*` gauges, which stay.
    for (const m of registry.getMetricsAsArray())
      if (m.name.endsWith('_total') && String(m.type) !== 'counter') registry.removeSingleMetric(m.name);
  }
  registerEventMetrics(registry, o.counters);
  const registers = [registry];

  const transitions = new Counter({
    name: 'wa_transitions_total',
    help: 'Account machine transitions, by account and from/to state.',
    labelNames: ['account', 'from', 'to'] as const,
    registers,
  });
  const disconnects = new Counter({
    name: 'wa_disconnects_total',
    help: 'Sockets closed under an account (transitions caused by SocketClosed), by code and policy reason. code: the status code; for reason "unreachable" (WhatsApp never reached) the network error code (ENOTFOUND, ECONNREFUSED, ...); "none" when the close had neither.',
    labelNames: ['account', 'code', 'reason'] as const,
    registers,
  });
  const reconnect = new Histogram({
    name: 'wa_reconnect_duration_seconds',
    help: 'Time from the link going down (leaving open/idle/pinging) to the next open, for outages that ended in open.',
    buckets: RECONNECT_BUCKETS,
    registers,
  });
  const problems = deliveryProblemMetrics(registers);
  const sendsQueued = new Counter({
    name: 'wa_sends_queued_total',
    help: 'Sends recorded (send.queued).',
    labelNames: ['account'] as const,
    registers,
  });
  const sends = new Counter({
    name: 'wa_sends_total',
    help: 'Sends settled, by result: acked (server ack), failed, expired.',
    labelNames: ['account', 'result'] as const,
    registers,
  });
  const sendLatency = new Histogram({
    name: 'wa_send_latency_seconds',
    help: 'send.queued → first send.acked, for sends queued while this process ran.',
    buckets: SEND_BUCKETS,
    registers,
  });
  const rtt = new Histogram({
    name: 'wa_keepalive_rtt_seconds',
    help: 'Keepalive probe round-trips that were answered.',
    buckets: RTT_BUCKETS,
    registers,
  });
  const probes = new Counter({
    name: 'wa_keepalive_probes_total',
    help: 'Keepalive probes by outcome (ok, timeout, stalled).',
    labelNames: ['account', 'outcome'] as const,
    registers,
  });
  new Gauge({
    name: 'wa_keepalive_last_rtt_seconds',
    help: 'The last answered keepalive round-trip of each account.',
    labelNames: ['account'] as const,
    registers,
    collect() {
      this.reset();
      for (const account of o.accounts()) {
        const ms = o.projection.status(account)?.keepalive.lastRttMs;
        if (ms !== undefined && ms !== null) this.set({ account }, ms / 1000);
      }
    },
  });
  new Gauge({
    name: 'wa_outbox_depth',
    help: 'Sends queued and not yet settled (acked, failed or expired), per account, as WA_EVENTS says.',
    labelNames: ['account'] as const,
    registers,
    collect() {
      this.reset();
      for (const account of o.accounts()) this.set({ account }, o.projection.outbox(account).length);
    },
  });
  new Gauge({
    name: 'wa_account_state',
    help: '1 for the state each account is in (its last transition), 0 for the others.',
    labelNames: ['account', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const account of o.accounts()) {
        const current = o.projection.status(account)?.state ?? null;
        for (const state of ACCOUNT_STATES) this.set({ account, state }, state === current ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'wa_accounts_connected',
    help: 'Accounts whose link to WhatsApp is up (open, idle or pinging); 0 = no account is connected. Compare with wa_accounts.',
    registers,
    collect() {
      this.set(o.accounts().filter((account) => ONLINE.has(o.projection.status(account)?.state ?? '')).length);
    },
  });
  new Gauge({
    name: 'wa_accounts',
    help: 'Accounts this gateway runs.',
    registers,
    collect() {
      this.set(o.accounts().length);
    },
  });
  new Gauge({
    name: 'wa_event_loop_delay_seconds',
    help: 'Event-loop delay since the previous scrape: p50, p99 and max.',
    labelNames: ['stat'] as const,
    registers,
    collect() {
      const d = o.loop.delay();
      this.set({ stat: 'p50' }, d.p50 / 1000);
      this.set({ stat: 'p99' }, d.p99 / 1000);
      this.set({ stat: 'max' }, d.max / 1000);
      o.loop.resetDelay();
    },
  });
  new Gauge({
    name: 'wa_nats_connected',
    help: '1 while the NATS connection is up.',
    registers,
    collect() {
      this.set(o.natsConnected() ? 1 : 0);
    },
  });

  /** account → when its link went down (ms), while it is down. */
  const downSince = new Map<string, number>();
  /** account\0id → queued at (ms), for sends not settled yet. */
  const pending = new Map<string, number>();
  const settled = new Lru<true>(SETTLED_MEMORY);

  const settle = (event: WaEvent & { id: string }, result: 'acked' | 'failed' | 'expired') => {
    const key = `${event.account}\u0000${event.id}`;
    if (settled.has(key)) return;
    settled.set(key, true);
    sends.inc({ account: event.account, result });
    const queuedAt = pending.get(key);
    pending.delete(key);
    if (result === 'acked' && queuedAt !== undefined)
      sendLatency.observe(Math.max(0, Date.parse(event.at) - queuedAt) / 1000);
  };

  return {
    registry,
    observe(event) {
      const { account } = event;
      switch (event.type) {
        case 'transition': {
          transitions.inc({ account, from: event.from, to: event.to });
          if (event.event === 'SocketClosed') {
            const code = event.statusCode !== undefined ? String(event.statusCode) : (event.cause ?? 'none');
            disconnects.inc({ account, code, reason: event.reason ?? 'none' });
          }
          const at = Date.parse(event.at);
          if (ONLINE.has(event.from) && !ONLINE.has(event.to)) downSince.set(account, at);
          if (event.to === 'open' && !ONLINE.has(event.from)) {
            const since = downSince.get(account);
            if (since !== undefined) reconnect.observe(Math.max(0, at - since) / 1000);
            downSince.delete(account);
          }
          // A stop, a logout or a new pairing is not a reconnect the gateway owes.
          if (event.to === 'stopped' || event.to === 'loggedOut' || event.to === 'pairing') downSince.delete(account);
          return;
        }
        case 'send.queued':
          sendsQueued.inc({ account });
          pending.set(`${account}\u0000${event.id}`, Date.parse(event.at));
          return;
        case 'send.acked':
          settle(event, 'acked');
          return;
        case 'send.failed':
          settle(event, 'failed');
          problems.failed(event);
          return;
        case 'message.undecryptable':
          problems.undecryptable(event);
          return;
        case 'account.banned':
          problems.banned(event);
          return;
        case 'send.expired':
          settle(event, 'expired');
          return;
        case 'keepalive':
          probes.inc({ account, outcome: event.outcome });
          if (event.outcome === 'ok' && event.rttMs !== undefined) rtt.observe(event.rttMs / 1000);
          return;
        case 'send.sent':
        case 'send.uploaded':
        case 'message.in':
        case 'message.reaction':
        case 'message.edited':
        case 'message.deleted':
        case 'receipt':
        case 'group.participants':
        case 'qr':
        case 'paired':
        case 'logged_out':
        case 'drop.pattern':
        case 'webhook.dead_lettered': // counted per endpoint by src/webhooks as it happens
        case 'owner.acquired':
        case 'owner.released':
        case 'owner.lost':
          return;
        default: {
          const unreachable: never = event;
          return unreachable;
        }
      }
    },
  };
}
