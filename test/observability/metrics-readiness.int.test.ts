// /metrics and /readyz of a whole gateway (real NATS, real Baileys, the simulator):
// the 408 disconnect counter moves by exactly one per forced drop, the output parses as
// Prometheus text, sends show up by result with a latency, and readiness follows NATS.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ONLINE_STATES } from '../../machines/index.js';
import { cmdSubject } from '../../src/contract/index.js';
import { parsePrometheusText, sum } from '../support/prom-text.js';
import { get, startScenario, type Scenario } from '../support/gateway-scenario.js';
import { until } from '../support/waiters.js';

let s: Scenario;
let client: NatsConnection;

const scrape = async () => {
  const r = await get(`${s.url}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(r.text);
};

beforeAll(async () => {
  s = await startScenario();
  client = await connect({ servers: s.nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  await s.entered('open');
});

afterAll(async () => {
  await client?.close();
  await s?.close();
});

describe('/metrics', () => {
  it('counts a forced 408 drop once, and parses as Prometheus text before and after', async () => {
    // The first open must be published (and folded) before the baseline is taken.
    await until('the first transition to open in /metrics', async () =>
      sum(await scrape(), 'wa_transitions_total', { account: s.account, to: 'open' }) >= 1 ? true : undefined,
    );
    const before = await scrape();
    const drops408 = sum(before, 'wa_disconnects_total', { account: s.account, code: '408' });
    const opens = s.transitions().filter((t) => t.to === 'open').length;

    expect(s.sim.inject({ type: 'stream-error', code: 408 }, s.provisioned.account.phone)).toHaveLength(1);
    await s.entered('open', opens + 1);

    const after = await until('the 408 in /metrics', async () => {
      const m = await scrape();
      return sum(m, 'wa_disconnects_total', { account: s.account, code: '408' }) > drops408 &&
        sum(m, 'wa_reconnect_duration_seconds', {}, 'wa_reconnect_duration_seconds_count') >= 1
        ? m
        : undefined;
    });
    expect(sum(after, 'wa_disconnects_total', { account: s.account, code: '408' })).toBe(drops408 + 1);
    expect(
      sum(after, 'wa_transitions_total', { account: s.account, from: 'open', to: 'reconnecting' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sum(after, 'wa_reconnect_duration_seconds', {}, 'wa_reconnect_duration_seconds_count')).toBe(1);
    expect(
      ONLINE_STATES.reduce((n, state) => n + sum(after, 'wa_account_state', { account: s.account, state }), 0),
    ).toBe(1);
    for (const name of [
      'wa_event_loop_delay_seconds',
      'wa_events_published_total',
      'wa_events_publish_failures_total',
      'wa_events_buffered',
      'wa_outbox_depth',
      'wa_nats_connected',
      'wa_keepalive_rtt_seconds',
      'wa_send_latency_seconds',
      'wa_sends_total',
    ]) {
      expect(after.has(name), name).toBe(true);
    }
    expect(
      after
        .get('wa_event_loop_delay_seconds')!
        .samples.map((x) => x.labels.stat)
        .sort(),
    ).toEqual(['max', 'p50', 'p99']);
  });

  it('counts a send by result with its latency, and keepalive round-trips', async () => {
    const reply = (
      await client.request(
        cmdSubject(s.account, 'send'),
        JSON.stringify({ to: '15559990001', text: 'metrics probe text' }),
        { timeout: 5_000 },
      )
    ).json<{ ok: boolean }>();
    expect(reply.ok).toBe(true);
    const m = await until('the send acked in /metrics', async () => {
      const m = await scrape();
      return sum(m, 'wa_sends_total', { account: s.account, result: 'acked' }) >= 1 ? m : undefined;
    });
    expect(sum(m, 'wa_sends_queued_total', { account: s.account })).toBe(1);
    expect(sum(m, 'wa_send_latency_seconds', {}, 'wa_send_latency_seconds_count')).toBe(1);
    expect(sum(m, 'wa_outbox_depth', { account: s.account })).toBe(0);
    // FAST_TIMINGS probe after 300 ms idle.
    const k = await until('a keepalive round-trip in /metrics', async () => {
      const m = await scrape();
      return sum(m, 'wa_keepalive_rtt_seconds', {}, 'wa_keepalive_rtt_seconds_count') >= 1 ? m : undefined;
    });
    expect(sum(k, 'wa_keepalive_probes_total', { account: s.account, outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(sum(k, 'wa_keepalive_last_rtt_seconds', { account: s.account })).toBeGreaterThanOrEqual(0);
  });

  it('counts every keepalive probe, not a sample of them', async () => {
    // Probes sent = idle → pinging transitions (FAST_TIMINGS: one every ~300 ms); each is
    // answered on loopback, so /metrics must catch up with all of them but the one in flight.
    const PROBES = 12;
    const sent = () => s.transitions().filter((t) => t.from === 'idle' && t.to === 'pinging').length;
    await s.entered('pinging', PROBES);
    const target = sent() - 1;
    const m = await until(`${target} answered probes in /metrics`, async () => {
      const m = await scrape();
      return sum(m, 'wa_keepalive_probes_total', { account: s.account, outcome: 'ok' }) >= target ? m : undefined;
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}; probes sent ${sent()}`);
    });
    const ok = sum(m, 'wa_keepalive_probes_total', { account: s.account, outcome: 'ok' });
    expect(ok).toBeLessThanOrEqual(sent());
    expect(sum(m, 'wa_keepalive_rtt_seconds', {}, 'wa_keepalive_rtt_seconds_count')).toBe(ok);
    // The runtime reports each answered probe as a fact (what WA_EVENTS gets).
    expect(s.facts.filter((f) => f.type === 'keepalive' && f.outcome === 'ok').length).toBeGreaterThanOrEqual(target);
  });
});

describe('/readyz', () => {
  it('is ready with NATS up and the account open, unready while NATS is down, ready again when it returns', async () => {
    await until('ready', async () => ((await get(`${s.url}/readyz`)).status === 200 ? true : undefined));
    const ready = JSON.parse((await get(`${s.url}/readyz`)).text);
    expect(ready).toMatchObject({ ready: true, nats: true, accounts: { [s.account]: { known: true, enabled: true } } });

    await s.nats.kill();
    const down = await until('unready', async () => {
      const r = await get(`${s.url}/readyz`);
      return r.status === 503 ? JSON.parse(r.text) : undefined;
    });
    expect(down).toMatchObject({ ready: false, nats: false });
    // /healthz is about the process, not its dependencies.
    expect((await get(`${s.url}/healthz`)).status).toBe(200);

    await s.nats.restart();
    await until('ready again', async () => ((await get(`${s.url}/readyz`)).status === 200 ? true : undefined), 30_000);
  }, 60_000);
});
