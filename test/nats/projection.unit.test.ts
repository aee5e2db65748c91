/** The projections as a pure fold: given(events) → view. */
import { describe, expect, it } from 'vitest';
import { makeEvent, MAX_DISCONNECTS, type EventBody, type EventType, type WaEvent } from '../../src/contract/index.js';
import { requestFingerprint } from '../../src/contract/index.js';
import { emptyView, evolve, Projection } from '../../src/nats/projection.js';

const A = 'acct';
let seq = 0;
function ev<T extends EventType>(type: T, body: EventBody<T>): WaEvent {
  return makeEvent(type, { account: A, seq: ++seq, at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)) }, body);
}
const to = '4915100000001@s.whatsapp.net';
const queued = (id: string, deadline?: string) =>
  ev('send.queued', { id, to, kind: 'text', text: `t-${id}`, ...(deadline ? { deadline } : {}) });

function given(...events: WaEvent[]) {
  const p = new Projection();
  for (const e of events) p.apply(e);
  return p;
}

describe('the outbox', () => {
  it('is queued minus acked, failed and expired, in queue order', () => {
    seq = 0;
    const p = given(
      queued('s1'),
      queued('s2'),
      queued('s3'),
      queued('s4'),
      ev('send.sent', { id: 's2', waMessageId: 'W2' }),
      ev('send.acked', { id: 's1', ack: 'server' }),
      ev('send.failed', { id: 's3', error: { code: 'logged_out', message: 'x' } }),
      queued('s5', '2026-01-01T01:00:00.000Z'),
    );
    expect(p.outbox(A).map((q) => [q.id, q.waMessageId])).toEqual([
      ['s2', 'W2'],
      ['s4', undefined],
      ['s5', undefined],
    ]);
    expect(p.outbox(A)[2]?.deadline).toBe('2026-01-01T01:00:00.000Z');
    p.apply(ev('send.expired', { id: 's4' }));
    expect(p.outbox(A).map((q) => q.id)).toEqual(['s2', 's5']);
  });

  it('indexes every send id with the seq of its send.queued and how far it got', () => {
    seq = 0;
    const p = given(
      queued('s1'),
      queued('s2'),
      ev('send.sent', { id: 's1', waMessageId: 'W1' }),
      ev('send.failed', { id: 's2', error: { code: 'logged_out', message: 'gone' } }),
    );
    expect(p.send(A, 's1')).toEqual({
      seq: 1,
      status: 'sent',
      request: requestFingerprint(to, 't-s1'),
      to,
      kind: 'text',
      waMessageId: 'W1',
    });
    expect(p.send(A, 's2')).toEqual({
      seq: 2,
      status: 'failed',
      request: requestFingerprint(to, 't-s2'),
      to,
      kind: 'text',
      error: { code: 'logged_out', message: 'gone' },
    });
    p.apply(ev('send.acked', { id: 's1', ack: 'delivered' }));
    expect(p.send(A, 's1')?.status).toBe('acked');
  });

  it('fingerprints a request by recipient and text, and nothing else', () => {
    const f = requestFingerprint(to, 'hi');
    expect(requestFingerprint(to, 'hi')).toBe(f);
    expect(requestFingerprint(to, 'hi ')).not.toBe(f);
    expect(requestFingerprint('4915100000002@s.whatsapp.net', 'hi')).not.toBe(f);
    // The separator keeps recipient and text apart.
    expect(requestFingerprint('a', 'bc')).not.toBe(requestFingerprint('ab', 'c'));
  });

  it('keeps the first settlement: a late ack does not revive a failed send', () => {
    seq = 0;
    const p = given(
      queued('s1'),
      ev('send.failed', { id: 's1', error: { code: 'internal', message: 'x' } }),
      ev('send.acked', { id: 's1', ack: 'read' }),
    );
    expect(p.send(A, 's1')?.status).toBe('failed');
    expect(p.outbox(A)).toEqual([]);
  });

  it('ignores a second send.queued with the same id', () => {
    seq = 0;
    const p = given(queued('s1'), queued('s1'));
    expect(p.outbox(A)).toHaveLength(1);
    expect(p.send(A, 's1')?.seq).toBe(1);
  });
});

describe('the status', () => {
  it('follows transitions, remembers recent disconnects newest first, bounded', () => {
    seq = 0;
    const events: WaEvent[] = [ev('transition', { from: 'stopped', to: 'connecting', event: 'Connect' })];
    for (let i = 0; i < MAX_DISCONNECTS + 2; i++) {
      events.push(ev('transition', { from: 'connecting', to: 'open', event: 'SocketOpened' }));
      events.push(
        ev('transition', {
          from: 'open',
          to: 'reconnecting',
          event: 'SocketClosed',
          statusCode: 400 + i,
          reason: 'connectionLost',
        }),
      );
    }
    const v = given(...events).view(A);
    expect(v.state).toBe('reconnecting');
    expect(v.since).toBe(events.at(-1)?.at);
    expect(v.lastDisconnects).toHaveLength(MAX_DISCONNECTS);
    expect(v.lastDisconnects[0]?.statusCode).toBe(400 + MAX_DISCONNECTS + 1);
  });

  it('counts keepalive timeouts and keeps the last rtt', () => {
    seq = 0;
    const v = given(
      ev('keepalive', { probe: 'ping', outcome: 'ok', rttMs: 40 }),
      ev('keepalive', { probe: 'ping', outcome: 'timeout' }),
      ev('keepalive', { probe: 'ping', outcome: 'stalled' }),
    ).view(A);
    expect(v.keepalive).toMatchObject({ lastRttMs: 40, timeouts: 1 });
    expect(v.keepalive.lastAt).not.toBeNull();
  });

  it('applies an event at most once (a repeated seq changes nothing)', () => {
    seq = 0;
    const v = emptyView(A);
    const e = ev('keepalive', { probe: 'ping', outcome: 'timeout' });
    expect(evolve(v, e)).toBe(true);
    expect(evolve(v, e)).toBe(false);
    expect(v.keepalive.timeouts).toBe(1);
    // A keepalive is liveness: it moves the liveness seq, not the records'.
    expect(v).toMatchObject({ livenessSeq: 1, lastSeq: 0 });
  });
});
