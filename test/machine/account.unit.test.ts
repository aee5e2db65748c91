import { describe, expect, it } from 'vitest';
import { backoffCeiling, closePolicy, DEFAULT_TIMINGS, fullJitterDelay } from '../../machines/index.js';
import { runAccount } from './harness.js';

const openAccount = (input = {}) => {
  const run = runAccount(input);
  run.send({ type: 'Connect' });
  run.send({ type: 'SocketOpened', connectionId: 1, at: 0 });
  return run;
};

describe('the disconnect policy', () => {
  it.each([
    [408, 'backoff'],
    [428, 'backoff'],
    [500, 'backoff'],
    [515, 'reconnectNow'],
    [440, 'stop'],
    [401, 'loggedOut'],
    [411, 'stop'],
    [499, 'backoff'],
  ] as const)('answers %i with %s', (code, action) => {
    expect(closePolicy(code).action).toBe(action);
  });

  it('backs off on a code it does not know, and names it unknown (metrics count these)', () => {
    const run = openAccount();
    const step = run.send({ type: 'SocketClosed', connectionId: 1, statusCode: 499, at: 0 });
    expect(run.state()).toBe('reconnecting');
    expect(step.records).toEqual([
      {
        type: 'transition',
        from: 'open',
        to: 'reconnecting',
        event: 'SocketClosed',
        reason: 'unknown',
        statusCode: 499,
      },
    ]);
  });

  it('reconnects at once on 515, without a backoff', () => {
    const run = openAccount();
    const step = run.send({ type: 'SocketClosed', connectionId: 1, statusCode: 515, at: 0 });
    expect(run.state()).toBe('connecting');
    expect(step.calls.filter((c) => c.type === 'openSocket')).toEqual([
      { type: 'openSocket', params: { connectionId: 2, pairPhone: null }, step: 3 },
    ]);
  });

  it('ignores a close from a socket it already replaced', () => {
    const run = openAccount();
    run.send({ type: 'SocketClosed', connectionId: 1, statusCode: 515, at: 0 });
    run.send({ type: 'SocketClosed', connectionId: 1, statusCode: 440, at: 0 });
    expect(run.state()).toBe('connecting');
  });
});

describe('the backoff', () => {
  it('starts near-immediate and doubles up to the cap', () => {
    expect(backoffCeiling(1, DEFAULT_TIMINGS)).toBe(DEFAULT_TIMINGS.backoffBaseMs);
    expect(backoffCeiling(2, DEFAULT_TIMINGS)).toBe(2 * DEFAULT_TIMINGS.backoffBaseMs);
    expect(backoffCeiling(40, DEFAULT_TIMINGS)).toBe(DEFAULT_TIMINGS.backoffCapMs);
  });

  it('draws full jitter: anywhere in [0, ceiling), not clustered at the top', () => {
    let rng = 7;
    const delays: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const [d, next] = fullJitterDelay(5, rng, DEFAULT_TIMINGS);
      delays.push(d);
      rng = next;
    }
    const ceiling = backoffCeiling(5, DEFAULT_TIMINGS);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(ceiling);
    expect(delays.filter((d) => d < ceiling / 2).length).toBeGreaterThan(800);
  });

  it('climbs while failures repeat and resets after a stable open period', () => {
    const run = openAccount();
    for (let i = 0; i < 3; i++) {
      run.send({ type: 'SocketClosed', connectionId: run.snapshot().context.connectionId, statusCode: 408, at: 1_000 });
      run.fire();
    }
    expect(run.snapshot().context.attempt).toBe(3);
    const id = run.snapshot().context.connectionId;
    run.send({ type: 'SocketOpened', connectionId: id, at: 10_000 });
    run.send({ type: 'SocketClosed', connectionId: id, statusCode: 408, at: 10_000 + DEFAULT_TIMINGS.stableAfterMs });
    expect(run.snapshot().context.attempt).toBe(1);
  });
});

describe('the keepalive', () => {
  it('goes open → idle → pinging → open when the probe is answered', () => {
    const run = openAccount();
    expect(run.armed()).toMatchObject({ name: 'idle', ms: DEFAULT_TIMINGS.idleAfterMs });
    run.fire();
    expect(run.state()).toBe('idle');
    expect(run.armed()!.ms).toBeLessThan(DEFAULT_TIMINGS.probeJitterMs);
    const probe = run.fire();
    expect(run.state()).toBe('pinging');
    expect(probe.calls.map((c) => c.type)).toEqual(['sendProbe']);
    const answered = run.send({ type: 'ProbeAnswered', probeId: run.snapshot().context.probeId, rttMs: 30 });
    expect(run.state()).toBe('open');
    expect(answered.records).toEqual([
      { type: 'transition', from: 'pinging', to: 'open', event: 'ProbeAnswered', reason: 'probeAnswered' },
    ]);
    expect(run.armed()).toMatchObject({ name: 'idle', ms: DEFAULT_TIMINGS.idleAfterMs });
  });

  it('declares a silent link dead after pingTimeoutMs and reconnects without waiting for its close', () => {
    const run = openAccount();
    run.send({ type: 'Send', id: 'a' });
    run.fire();
    run.fire();
    const dead = run.fire({ stalledMs: 0 });
    // A dead link has nothing to drain: its close may never come (a blackholed socket).
    expect(run.state()).toBe('reconnecting');
    expect(dead.records).toMatchObject([{ from: 'pinging', to: 'reconnecting', reason: 'keepaliveTimeout' }]);
    expect(dead.calls.map((c) => c.type)).toEqual(['closeSocket']);
    expect(run.snapshot().context.outbox).toEqual(['a']);
    // The old socket's close, whenever it comes, changes nothing.
    run.send({ type: 'SocketClosed', connectionId: 1, statusCode: 428, at: 0 });
    expect(run.state()).toBe('reconnecting');
    run.fire();
    run.send({ type: 'SocketOpened', connectionId: 2, at: 0 });
    expect(run.calls.filter((c) => c.type === 'dispatchSend').map((c) => c.params)).toEqual([
      { id: 'a', connectionId: 1 },
      { id: 'a', connectionId: 2 },
    ]);
  });

  it('probes once more when the deadline passed during an event-loop stall', () => {
    const run = openAccount();
    run.fire();
    run.fire();
    const again = run.fire({ stalledMs: 5 * DEFAULT_TIMINGS.stallThresholdMs });
    expect(run.state()).toBe('pinging');
    expect(again.records[0]).toMatchObject({ from: 'pinging', to: 'pinging', reason: 'eventLoopStalled' });
    expect(again.calls.map((c) => c.type)).toEqual(['sendProbe']);
    // A second stalled deadline is not excused again: the link is declared dead.
    run.fire({ stalledMs: 5 * DEFAULT_TIMINGS.stallThresholdMs });
    expect(run.state()).toBe('reconnecting');
  });

  it('does not let inbound traffic postpone the probe by default', () => {
    const run = openAccount();
    const token = run.armed()!.token;
    run.send({ type: 'InboundReceived', connectionId: 1 });
    expect(run.armed()!.token).toBe(token);
  });
});

describe('sending', () => {
  it('holds sends while down and dispatches them in order on open, before new ones', () => {
    const run = runAccount();
    run.send({ type: 'Send', id: 'a' });
    run.send({ type: 'Connect' });
    run.send({ type: 'Send', id: 'b' });
    expect(run.calls.filter((c) => c.type === 'dispatchSend')).toEqual([]);
    run.send({ type: 'SocketOpened', connectionId: 1, at: 0 });
    run.send({ type: 'Send', id: 'c' });
    expect(run.calls.filter((c) => c.type === 'dispatchSend').map((c) => c.params)).toEqual([
      { id: 'a', connectionId: 1 },
      { id: 'b', connectionId: 1 },
      { id: 'c', connectionId: 1 },
    ]);
  });

  it('replays unacknowledged sends with the same id after a drop, and acknowledged ones never', () => {
    const run = openAccount();
    run.send({ type: 'Send', id: 'a' });
    run.send({ type: 'Send', id: 'b' });
    run.send({ type: 'SendAcked', id: 'a' });
    run.send({ type: 'SocketClosed', connectionId: 1, statusCode: 408, at: 0 });
    run.send({ type: 'Send', id: 'c' });
    expect(run.snapshot().context.outbox).toEqual(['b', 'c']);
    run.fire();
    run.send({ type: 'SocketOpened', connectionId: 2, at: 0 });
    expect(
      run.calls.filter((c) => c.type === 'dispatchSend' && c.params.connectionId === 2).map((c) => c.params),
    ).toEqual([
      { id: 'b', connectionId: 2 },
      { id: 'c', connectionId: 2 },
    ]);
  });

  it('never replays a send the server refused', () => {
    const run = openAccount();
    run.send({ type: 'Send', id: 'a' });
    const rejected = run.send({ type: 'SendRejected', id: 'a', error: '479' });
    expect(rejected.calls).toEqual([
      { type: 'failSend', params: { id: 'a', code: 'rejected', message: '479' }, step: 4 },
    ]);
    run.send({ type: 'SocketClosed', connectionId: 1, statusCode: 408, at: 0 });
    expect(run.snapshot().context.outbox).toEqual([]);
  });

  it('refuses sends once logged out, and fails what was held', () => {
    const run = runAccount();
    run.send({ type: 'Send', id: 'a' });
    run.send({ type: 'Connect' });
    const out = run.send({ type: 'SocketClosed', connectionId: 1, statusCode: 401, at: 0 });
    expect(run.state()).toBe('loggedOut');
    expect(out.calls).toEqual([
      expect.objectContaining({ type: 'failSend', params: expect.objectContaining({ id: 'a', code: 'logged_out' }) }),
    ]);
    const refused = run.send({ type: 'Send', id: 'b' });
    expect(refused.calls).toEqual([
      expect.objectContaining({ type: 'failSend', params: expect.objectContaining({ id: 'b', code: 'logged_out' }) }),
    ]);
  });

  it('expires a held send whose deadline passed, but not one already dispatched', () => {
    const run = runAccount();
    run.send({ type: 'Send', id: 'a' });
    expect(run.send({ type: 'Expire', id: 'a' }).calls).toEqual([{ type: 'expireSend', params: { id: 'a' }, step: 2 }]);
    const open = openAccount();
    open.send({ type: 'Send', id: 'b' });
    expect(open.send({ type: 'Expire', id: 'b' }).calls).toEqual([]);
  });
});

describe('the ack deadline', () => {
  it('runs for the oldest send in flight, and restarts when that one is acknowledged', () => {
    const run = openAccount();
    expect(run.armedAck()).toBeNull();
    run.send({ type: 'Send', id: 'a' });
    const first = run.armedAck();
    expect(first).toMatchObject({ name: 'ack', slot: 'ack', fires: 'AckTimedOut', ms: DEFAULT_TIMINGS.ackTimeoutMs });
    run.send({ type: 'Send', id: 'b' });
    expect(run.armedAck()).toEqual(first);
    // The keepalive's own timer runs beside it, untouched.
    expect(run.armed()).toMatchObject({ name: 'idle' });
    run.send({ type: 'SendAcked', id: 'a' });
    expect(run.armedAck()!.token).not.toBe(first!.token);
    run.send({ type: 'SendRejected', id: 'b', error: '479' });
    expect(run.armedAck()).toBeNull();
  });

  it('keeps running through the keepalive cycle', () => {
    const run = openAccount();
    run.send({ type: 'Send', id: 'a' });
    const armed = run.armedAck();
    run.fire(); // idle
    run.fire(); // pinging
    run.send({ type: 'ProbeAnswered', probeId: run.snapshot().context.probeId, rttMs: 5 });
    expect(run.state()).toBe('open');
    expect(run.armedAck()).toEqual(armed);
  });

  it('declares the link dead when it passes, and resends the unacknowledged send and all after it, in order, with the same ids', () => {
    const run = openAccount();
    run.send({ type: 'Send', id: 'a' });
    run.send({ type: 'Send', id: 'b' });
    run.send({ type: 'Send', id: 'c' });
    run.send({ type: 'SendAcked', id: 'a' });
    const dead = run.fireAck();
    expect(run.state()).toBe('reconnecting');
    expect(dead.records).toMatchObject([
      { from: 'open', to: 'reconnecting', event: 'AckTimedOut', reason: 'ackTimeout' },
    ]);
    expect(dead.calls.map((c) => c.type)).toEqual(['closeSocket']);
    expect(run.armedAck()).toBeNull();
    run.send({ type: 'Send', id: 'd' });
    expect(run.snapshot().context.outbox).toEqual(['b', 'c', 'd']);
    run.fire();
    run.send({ type: 'SocketOpened', connectionId: 2, at: 0 });
    expect(
      run.calls.flatMap((c) => (c.type === 'dispatchSend' && c.params.connectionId === 2 ? [c.params.id] : [])),
    ).toEqual(['b', 'c', 'd']);
    // The resent sends get a deadline of their own.
    expect(run.armedAck()).toMatchObject({ name: 'ack' });
  });

  it('is declared dead from idle and pinging too', () => {
    for (const steps of [1, 2]) {
      const run = openAccount();
      run.send({ type: 'Send', id: 'a' });
      for (let i = 0; i < steps; i++) run.fire();
      const from = run.state();
      expect(run.fireAck().records).toMatchObject([{ from, to: 'reconnecting', reason: 'ackTimeout' }]);
    }
  });

  it('gives a deadline that passed during an event-loop stall one more period', () => {
    const run = openAccount();
    run.send({ type: 'Send', id: 'a' });
    const first = run.armedAck()!;
    const stalled = run.fireAck({ stalledMs: 5 * DEFAULT_TIMINGS.stallThresholdMs });
    expect(run.state()).toBe('open');
    expect(stalled.records).toEqual([]);
    expect(run.armedAck()!.token).not.toBe(first.token);
    run.fireAck();
    expect(run.state()).toBe('reconnecting');
  });

  it('ignores a deadline it has already moved past', () => {
    const run = openAccount();
    run.send({ type: 'Send', id: 'a' });
    const stale = run.armedAck()!;
    run.send({ type: 'SendAcked', id: 'a' });
    run.send({ type: 'Send', id: 'b' });
    run.send({ type: 'AckTimedOut', token: stale.token, at: 0, stalledMs: 0 });
    expect(run.state()).toBe('open');
  });

  it('is not armed once the link is left', () => {
    const run = openAccount();
    run.send({ type: 'Send', id: 'a' });
    run.send({ type: 'Recycle' });
    expect(run.state()).toBe('draining');
    expect(run.armedAck()).toBeNull();
  });
});

describe('draining', () => {
  it('waits for in-flight acks before closing on a planned recycle, then reconnects at once', () => {
    const run = openAccount();
    run.send({ type: 'Send', id: 'a' });
    const enter = run.send({ type: 'Recycle', reason: 'dropPredicted' });
    expect(run.state()).toBe('draining');
    expect(enter.records[0]).toMatchObject({ from: 'open', to: 'draining', reason: 'dropPredicted' });
    expect(enter.calls.map((c) => c.type)).toEqual([]);
    expect(run.send({ type: 'SendAcked', id: 'a' }).calls.map((c) => c.type)).toEqual(['closeSocket']);
    run.send({ type: 'SocketClosed', connectionId: 1, statusCode: 428, at: 0 });
    expect(run.state()).toBe('connecting');
  });

  it('requeues what is still in flight when the drain times out', () => {
    const run = openAccount();
    run.send({ type: 'Send', id: 'a' });
    run.send({ type: 'Recycle' });
    const timeout = run.fire();
    expect(timeout.calls.map((c) => c.type)).toEqual(['closeSocket', 'openSocket']);
    expect(run.state()).toBe('connecting');
    expect(run.snapshot().context.outbox).toEqual(['a']);
  });

  it('stops after an operator disconnect once in-flight sends are settled', () => {
    const run = openAccount();
    run.send({ type: 'Send', id: 'a' });
    run.send({ type: 'Disconnect' });
    run.send({ type: 'SendAcked', id: 'a' });
    run.send({ type: 'SocketClosed', connectionId: 1, at: 0 });
    expect(run.state()).toBe('stopped');
  });
});

describe('transition records', () => {
  it('tell the 408 story: open → reconnecting → connecting → open', () => {
    const run = openAccount();
    run.send({ type: 'SocketClosed', connectionId: 1, statusCode: 408, at: 0 });
    run.fire();
    run.send({ type: 'SocketOpened', connectionId: 2, at: 0 });
    expect(
      run.records.map(({ from, to, event, reason, statusCode }) => ({ from, to, event, reason, statusCode })),
    ).toEqual([
      { from: 'stopped', to: 'connecting', event: 'Connect', reason: 'operatorConnect', statusCode: undefined },
      { from: 'connecting', to: 'open', event: 'SocketOpened', reason: 'loggedIn', statusCode: undefined },
      { from: 'open', to: 'reconnecting', event: 'SocketClosed', reason: 'connectionLost', statusCode: 408 },
      {
        from: 'reconnecting',
        to: 'connecting',
        event: 'BackoffElapsed',
        reason: 'backoffElapsed',
        statusCode: undefined,
      },
      { from: 'connecting', to: 'open', event: 'SocketOpened', reason: 'loggedIn', statusCode: undefined },
    ]);
  });
});

describe('pairing', () => {
  it('shows a QR, then logs in after the 515 that follows pair-success', () => {
    const run = runAccount();
    run.send({ type: 'Pair' });
    run.send({ type: 'QrReceived', connectionId: 1 });
    expect(run.state()).toBe('pairing');
    run.send({ type: 'SocketClosed', connectionId: 1, statusCode: 515, at: 0 });
    expect(run.state()).toBe('connecting');
    run.send({ type: 'SocketOpened', connectionId: 2, at: 0 });
    expect(run.state()).toBe('open');
  });

  it('stops when nobody scanned the QR codes in time', () => {
    const run = runAccount();
    run.send({ type: 'Pair', phone: '+4915100000000' });
    expect(run.calls[0]).toMatchObject({ type: 'openSocket', params: { pairPhone: '+4915100000000' } });
    run.send({ type: 'PairingCodeIssued', connectionId: 1 });
    run.send({ type: 'SocketClosed', connectionId: 1, statusCode: 408, at: 0 });
    expect(run.state()).toBe('stopped');
  });
});
