/**
 * The one status view as pure folds: given(events) → view. The status follows the
 * runtime's facts as they are accepted (`live`), the outbox and index what the stream
 * stored (`stored`), and a read of the history (`apply`) gives both.
 */
import { describe, expect, it } from 'vitest';
import { makeEvent, type EventBody, type EventType, MAX_DISCONNECTS, type WaEvent } from '../../src/contract/index.js';
import { InspectorHub } from '../../src/inspect/hub.js';
import { Projection, type AccountView } from '../../src/nats/projection.js';
import { emptyStatus, evolveStatus } from '../../src/nats/status-view.js';

const A = 'acct';
const to = '4915100000001@s.whatsapp.net';

function events() {
  let seq = 0;
  return <T extends EventType>(type: T, body: EventBody<T>): WaEvent =>
    makeEvent(type, { account: A, seq: ++seq, at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)) }, body);
}

/** The view without its maps, for equality. */
const plain = (v: AccountView) => ({
  ...v,
  outbox: [...v.outbox.values()],
  sends: Object.fromEntries(v.sends),
});

describe('evolveStatus', () => {
  it('returns a new status and leaves the one it was given as it was', () => {
    const ev = events();
    const before = emptyStatus();
    const after = evolveStatus(
      before,
      ev('transition', {
        from: 'open',
        to: 'reconnecting',
        event: 'SocketClosed',
        statusCode: 408,
        reason: 'connectionLost',
      }),
    );
    expect(before).toEqual(emptyStatus());
    expect(after).toMatchObject({
      state: 'reconnecting',
      since: '2026-01-01T00:00:01.000Z',
      lastDisconnects: [{ statusCode: 408, reason: 'connectionLost' }],
    });
  });

  it('given transitions, keeps the last state, since when, and the last disconnects newest first, bounded', () => {
    const ev = events();
    let s = emptyStatus();
    for (let i = 0; i < MAX_DISCONNECTS + 3; i++) {
      s = evolveStatus(s, ev('transition', { from: 'connecting', to: 'open', event: 'SocketOpened' }));
      s = evolveStatus(
        s,
        ev('transition', {
          from: 'open',
          to: 'reconnecting',
          event: 'SocketClosed',
          statusCode: 500 + i,
        }),
      );
    }
    const last = ev('transition', {
      from: 'reconnecting',
      to: 'connecting',
      event: 'BackoffElapsed',
    });
    s = evolveStatus(s, last);
    expect(s.state).toBe('connecting');
    expect(s.since).toBe(last.at);
    expect(s.lastDisconnects.map((d) => d.statusCode)).toEqual(
      Array.from({ length: MAX_DISCONNECTS }, (_, i) => 500 + MAX_DISCONNECTS + 2 - i),
    );
  });

  it('given keepalives, keeps the last answered rtt and counts timeouts, not stalls', () => {
    const ev = events();
    const s = [
      ev('keepalive', { probe: 'ping', outcome: 'ok', rttMs: 17 }),
      ev('keepalive', { probe: 'ping', outcome: 'timeout' }),
      ev('keepalive', { probe: 'presence', outcome: 'stalled' }),
    ].reduce(evolveStatus, emptyStatus());
    expect(s.keepalive).toEqual({ lastRttMs: 17, lastAt: '2026-01-01T00:00:03.000Z', timeouts: 1 });
  });

  it('shows the latest QR while pairing and forgets it once pairing ends', () => {
    const ev = events();
    let s = [
      ev('transition', { from: 'connecting', to: 'pairing', event: 'QrReceived' }),
      ev('qr', { qr: 'ref-1' }),
      ev('qr', { qr: 'ref-2' }),
    ].reduce(evolveStatus, emptyStatus());
    expect(s.qr).toBe('ref-2');
    expect(evolveStatus(s, ev('paired', {})).qr).toBeNull();
    expect(evolveStatus(s, ev('logged_out', {})).qr).toBeNull();
    s = evolveStatus(
      s,
      ev('transition', {
        from: 'pairing',
        to: 'connecting',
        event: 'SocketClosed',
        statusCode: 515,
      }),
    );
    expect(s.qr).toBeNull();
  });

  it('is not moved by sends or inbound messages', () => {
    const ev = events();
    const s = emptyStatus();
    for (const e of [
      ev('send.queued', { id: 's1', to, kind: 'text', text: 'hi' }),
      ev('send.acked', { id: 's1', ack: 'server' }),
      ev('message.in', {
        from: to,
        chat: to,
        waMessageId: 'W1',
        text: 'yo',
        timestamp: '2026-01-01T00:00:00.000Z',
      }),
    ]) {
      expect(evolveStatus(s, e)).toBe(s);
    }
  });
});

describe('the projection', () => {
  it('moves the status on a live fact at once, and the outbox only when the stream stored the send', () => {
    const ev = events();
    const p = new Projection();
    const closed = ev('transition', {
      from: 'open',
      to: 'reconnecting',
      event: 'SocketClosed',
      statusCode: 408,
    });
    const queued = ev('send.queued', { id: 's1', to, kind: 'text', text: 'hi' });
    p.live(closed);
    p.live(queued);
    expect(p.view(A)).toMatchObject({ state: 'reconnecting', since: closed.at, lastSeq: 0 });
    expect(p.outbox(A)).toEqual([]);
    p.stored(closed);
    p.stored(queued);
    expect(p.outbox(A).map((q) => q.id)).toEqual(['s1']);
    expect(p.view(A).lastSeq).toBe(2);
    // Stored after it was live: the disconnect is not counted twice.
    expect(p.view(A).lastDisconnects).toHaveLength(1);
  });

  it('given the same events live then stored, equals the view rebuilt from the history', () => {
    const ev = events();
    const history = [
      ev('transition', { from: 'stopped', to: 'connecting', event: 'Connect' }),
      ev('transition', { from: 'connecting', to: 'open', event: 'SocketOpened' }),
      ev('send.queued', { id: 's1', to, kind: 'text', text: 'hi' }),
      ev('keepalive', { probe: 'ping', outcome: 'ok', rttMs: 30 }),
      ev('send.sent', { id: 's1', waMessageId: 'W1' }),
      ev('transition', {
        from: 'open',
        to: 'reconnecting',
        event: 'SocketClosed',
        statusCode: 428,
        reason: 'connectionClosed',
      }),
      ev('send.queued', { id: 's2', to, kind: 'text', text: 'ho' }),
      ev('send.acked', { id: 's1', ack: 'server' }),
    ];
    const running = new Projection();
    for (const e of history) running.live(e);
    for (const e of history) running.stored(e);
    const rebuilt = new Projection();
    for (const e of history) rebuilt.apply(e);
    expect(plain(running.view(A))).toEqual(plain(rebuilt.view(A)));
  });

  it("when the runtime starts an account, its state is the runtime's from then on, whatever a previous process left in the stream", () => {
    const ev = events();
    const p = new Projection();
    p.apply(ev('transition', { from: 'connecting', to: 'pairing', event: 'QrReceived' }));
    p.apply(ev('qr', { qr: 'old' }));
    p.apply(
      ev('transition', {
        from: 'open',
        to: 'reconnecting',
        event: 'SocketClosed',
        statusCode: 408,
      }),
    );
    p.started(A, 'stopped', '2026-02-01T00:00:00.000Z');
    expect(p.status(A)).toMatchObject({
      state: 'stopped',
      since: '2026-02-01T00:00:00.000Z',
      qr: null,
      lastDisconnects: [{ statusCode: 408 }],
    });
    // Transitions and QRs are liveness: their own seq (records have none yet).
    expect(p.view(A)).toMatchObject({ livenessSeq: 3, lastSeq: 0 });
  });
});

describe('the inspector hub', () => {
  it('reads state, outbox depth, last rtt and QR from the projection, and logs the stored events without text or QR', () => {
    const ev = events();
    const p = new Projection();
    const hub = new InspectorHub({ projection: p, accounts: () => [A], natsConnected: () => true });
    const seen: unknown[] = [];
    hub.watch((m) => seen.push(m));
    const stored = [
      ev('transition', { from: 'connecting', to: 'pairing', event: 'QrReceived' }),
      ev('qr', { qr: 'ref-1' }),
      ev('send.queued', { id: 's1', to, kind: 'text', text: 'secret' }),
    ];
    for (const e of stored) p.live(e);
    // Live ahead of the stream: the status is there before the events are stored.
    expect(hub.status(A)).toEqual({ account: A, state: 'pairing', outbox: 0, lastRttMs: null, owner: null });
    expect(hub.qr(A)).toBe('ref-1');
    for (const e of stored) {
      p.stored(e);
      hub.observe(e);
    }
    expect(hub.status(A)).toEqual({ account: A, state: 'pairing', outbox: 1, lastRttMs: null, owner: null });
    const log = hub.snapshot().accounts[0]?.log ?? [];
    expect(log.map((e) => e.type)).toEqual(['transition', 'qr', 'send.queued']);
    expect(JSON.stringify(log)).not.toMatch(/secret|ref-1/);
    expect(seen).toHaveLength(3);
  });
});
