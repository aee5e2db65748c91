import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeepaliveStrategy } from '../../src/contract/index.js';
import type { TrafficKind } from '../../src/simulator/index.js';
import { FACT_DEADLINE_MS, FAST_TIMINGS, startHarness, type Harness } from '../support/runtime-harness.js';

// The field report's server timer: ~16 min. Scaled by TIME_SCALE it runs in 960 ms;
// the probe cadence is a sixth of it (140 ms + jitter). The defaults keep a far larger
// margin (5 s against 16 min); here the margin must also absorb event-loop stalls of
// a loaded 2-core machine that runs Baileys and the simulator in one process.
const SERVER_IDLE_MS = 16 * 60_000;
const TIME_SCALE = 0.001;
const SCALED_IDLE_MS = SERVER_IDLE_MS * TIME_SCALE;
/** presenceEveryMs scaled like the 5-minute default (a third of the server timer). */
const SCALED_PRESENCE_EVERY_MS = SCALED_IDLE_MS / 3;
const PERIODS = 20;
/** Each period is the server timer plus a reconnect (~0.2 s); allow four times that. */
const LOOP_DEADLINE_MS = PERIODS * (SCALED_IDLE_MS + 200) * 4;

const drops408 = (h: Harness, account: string) =>
  h.facts.transitions(account).filter((t) => t.statusCode === 408).length;

describe('the 408 loop, reproduced and beaten', () => {
  let h: Harness;
  beforeAll(async () => {
    // recycleAheadOfDrops off: this test shows the raw loop, not the pattern defence.
    h = await startHarness(
      { timeScale: TIME_SCALE },
      {
        recycleAheadOfDrops: false,
        presenceEveryMs: SCALED_PRESENCE_EVERY_MS,
        timings: { ...FAST_TIMINGS, idleAfterMs: SCALED_IDLE_MS / 6 - FAST_TIMINGS.probeJitterMs! },
      },
    );
  });
  afterAll(async () => h?.close());

  it(
    `drops every ~T without an application keepalive and never with one, over ${PERIODS} periods`,
    async () => {
      // Server timers as the field report suspects: only application stanzas reset them.
      const appOnly: TrafficKind[] = ['message', 'presence'];
      const withPings: TrafficKind[] = ['message', 'presence', 'ping'];
      const cases: { account: string; keepalive: KeepaliveStrategy; resetBy: TrafficKind[]; drops: boolean }[] = [
        { account: 'off', keepalive: 'off', resetBy: appOnly, drops: true },
        // A ping IQ does not count for this server timer: the test shows the strategy fail.
        { account: 'ping-uncounted', keepalive: 'ping', resetBy: appOnly, drops: true },
        { account: 'ping-counted', keepalive: 'ping', resetBy: withPings, drops: false },
        { account: 'presence', keepalive: 'presence', resetBy: appOnly, drops: false },
        { account: 'both', keepalive: 'both', resetBy: appOnly, drops: false },
      ];
      for (const c of cases) {
        const { phone } = await h.addAccount(c.account, { keepalive: c.keepalive, connect: false });
        h.sim.setFaults({ idleTimeout: { afterMs: SERVER_IDLE_MS, resetBy: c.resetBy, code: 408 } }, phone);
        h.gateway.connect(c.account);
      }
      await Promise.all(cases.map((c) => h.facts.entered(c.account, 'open')));
      const opensAtStart = new Map(
        cases.map((c) => [c.account, h.facts.transitions(c.account).filter((t) => t.to === 'open').length]),
      );

      // The unprotected account is the clock: wait for it to drop PERIODS times.
      await h.facts.until(
        `${PERIODS} drops of the unprotected account`,
        () => (drops408(h, 'off') >= PERIODS ? true : undefined),
        LOOP_DEADLINE_MS,
      );

      const result = Object.fromEntries(cases.map((c) => [c.account, drops408(h, c.account)]));
      for (const c of cases) {
        if (c.drops)
          expect(result[c.account], `${c.account} should drop: ${JSON.stringify(result)}`).toBeGreaterThanOrEqual(
            PERIODS / 2,
          );
        else expect(result[c.account], `${c.account} should not drop: ${JSON.stringify(result)}`).toBe(0);
      }
      // The protected accounts stayed up: still their first open, and probing all along.
      for (const c of cases.filter((x) => !x.drops)) {
        expect(h.facts.transitions(c.account).filter((t) => t.to === 'open' && t.from === 'connecting').length).toBe(
          opensAtStart.get(c.account),
        );
        expect(
          h.facts.transitions(c.account).filter((t) => t.from === 'pinging' && t.to === 'open').length,
        ).toBeGreaterThan(PERIODS);
      }
    },
    LOOP_DEADLINE_MS + 10_000,
  );
});

describe('liveness', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it('detects a half-open link (server silent, socket open) within idleAfterMs + jitter + pingTimeoutMs', async () => {
    const { phone } = await h.addAccount('halfopen');
    await h.facts.entered('halfopen', 'open');
    // Start from a fresh cycle so the bound is measured from the last answered probe.
    const answered = h.facts.transitions('halfopen').filter((t) => t.from === 'pinging' && t.to === 'open').length;
    await h.facts.until('a probe answered', () =>
      h.facts.transitions('halfopen').filter((t) => t.from === 'pinging' && t.to === 'open').length > answered
        ? true
        : undefined,
    );
    const silentAt = Date.now();
    h.sim.setFaults({ silence: true }, phone);
    await h.facts.until('dead link declared', () =>
      h.facts
        .transitions('halfopen')
        .find((t) => t.from === 'pinging' && t.to === 'reconnecting' && t.reason === 'keepaliveTimeout'),
    );
    const detectedMs = Date.now() - silentAt;
    const bound = FAST_TIMINGS.idleAfterMs! + FAST_TIMINGS.probeJitterMs! + FAST_TIMINGS.pingTimeoutMs!;
    // Scheduling noise on a shared 2-core machine is allowed for, not a second cycle.
    expect(detectedMs).toBeLessThan(bound + FAST_TIMINGS.idleAfterMs!);
    expect(h.facts.of('keepalive', 'halfopen').some((k) => k.outcome === 'timeout')).toBe(true);
    h.sim.clearFaults(phone, ['silence']);
    await h.facts.until('open again', () =>
      h.facts
        .transitions('halfopen')
        .find((t, i, all) => t.to === 'open' && all.slice(0, i).some((x) => x.reason === 'keepaliveTimeout')),
    );
  });

  it('is open again after a blackholed link without waiting for its close, and resends what it had written', async () => {
    // Only the keepalive may notice (no ack deadline), and a drain would outlast the test:
    // the account must not wait for a close that never comes (issue 19, item 4).
    const never = 600_000;
    expect(never).toBeGreaterThan(10 * FACT_DEADLINE_MS);
    const { phone } = await h.addAccount('frozen', {
      timings: { ...FAST_TIMINGS, drainTimeoutMs: never, ackTimeoutMs: never },
    });
    await h.facts.entered('frozen', 'open');
    h.sim.inject({ type: 'freeze' }, phone);
    expect(h.gateway.submit('frozen', { id: 'f1', to: '4915100000301@s.whatsapp.net', text: 'into the void' })).toBe(
      'dispatched',
    );
    await h.facts.until('dead link declared', () =>
      h.facts.transitions('frozen').find((t) => t.from === 'pinging' && t.reason === 'keepaliveTimeout'),
    );
    expect(h.facts.transitions('frozen').filter((t) => t.to === 'draining')).toEqual([]);
    await h.facts.entered('frozen', 'open', 2);
    await h.facts.until('the send acknowledged on the new link', () =>
      h.facts.of('send.acked', 'frozen').find((a) => a.id === 'f1' && a.ack === 'server'),
    );
  });

  it('does not kill a healthy link when the event loop stalls past the probe deadline', async () => {
    await h.addAccount('stalled');
    await h.facts.entered('stalled', 'open');
    const pingingSeen = h.facts.transitions('stalled').filter((t) => t.to === 'pinging').length;
    await h.facts.until('pinging', () =>
      h.facts.transitions('stalled').filter((t) => t.to === 'pinging').length > pingingSeen ? true : undefined,
    );
    // Block the loop for twice the probe deadline while the probe is out.
    const blockMs = 2 * FAST_TIMINGS.pingTimeoutMs!;
    const until = Date.now() + blockMs;
    while (Date.now() < until) {
      /* busy: a synchronous stall like the field's 97–100 s ones */
    }
    await h.facts.until('stall excused', () =>
      h.facts.transitions('stalled').find((t) => t.reason === 'eventLoopStalled'),
    );
    await h.facts.until('probe answered after the stall', () =>
      h.facts
        .transitions('stalled')
        .find(
          (t, i, all) =>
            t.from === 'pinging' && t.to === 'open' && all.slice(0, i).some((x) => x.reason === 'eventLoopStalled'),
        ),
    );
    expect(h.facts.transitions('stalled').filter((t) => t.to === 'draining' || t.to === 'reconnecting')).toEqual([]);
    expect(
      h.facts.of('keepalive', 'stalled').some((k) => k.outcome === 'stalled' && (k.loopDelayMs ?? 0) >= blockMs / 2),
    ).toBe(true);
  });
});

describe('a metronomic drop pattern', () => {
  let h: Harness;
  // The simulator recycles every session every 16 scaled minutes, whatever the traffic.
  const SCALE = 0.001;
  beforeAll(async () => {
    h = await startHarness({ timeScale: SCALE });
  });
  afterAll(async () => h?.close());

  it('is reported, and the gateway then reconnects ahead of the drop instead of being cut off', async () => {
    const { phone } = await h.addAccount('metronome', { connect: false });
    h.sim.setFaults({ recycle: { everyMs: SERVER_IDLE_MS, code: 408 } }, phone);
    h.gateway.connect('metronome');
    const pattern = await h.facts.until('drop.pattern', () => h.facts.of('drop.pattern', 'metronome')[0], 20_000);
    const period = SERVER_IDLE_MS * SCALE;
    expect(pattern.periodMs).toBeGreaterThan(period * 0.8);
    expect(pattern.periodMs).toBeLessThan(period * 1.5);
    const serverDrops = () => h.facts.transitions('metronome').filter((t) => t.statusCode === 408).length;
    const recycles = () => h.facts.transitions('metronome').filter((t) => t.reason === 'dropPredicted').length;
    await h.facts.until('the first planned recycle', () => (recycles() >= 1 ? true : undefined), 20_000);
    const dropsAtFirstRecycle = serverDrops();
    // Three more planned recycles: each drains (no send fails) and reconnects before the
    // server's timer; the server gets no chance to cut a session off.
    await h.facts.until('three more planned recycles', () => (recycles() >= 4 ? true : undefined), 20_000);
    expect(serverDrops()).toBe(dropsAtFirstRecycle);
  }, 60_000);
});
