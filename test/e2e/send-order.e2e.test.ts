/**
 * Issue 11, defects 1 and 3: the order of sends and of their facts, on the whole gateway
 * in-process (startGateway) against real Baileys, the simulator and a real nats-server.
 *
 * 1. Sends the server loses without closing the link (the simulator's `silence`: frames
 *    read meanwhile are discarded, the socket stays open) are resent, with everything
 *    after them, in order and once each, once their ack deadline passes — the keepalive
 *    is off, so nothing else can notice.
 * 2. An account's facts reach WA_EVENTS in the order they happened: for every send,
 *    `send.queued` < `send.sent` < `send.acked` by stream order.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmdSubject, evtFilter } from '../../src/contract/index.js';
import { waMessageIdFor } from '../../src/runtime/message-id.js';
import type { Fact, FactOf } from '../../src/runtime/port.js';
import { startScenario, type Scenario } from '../support/gateway-scenario.js';
import { dumpStream, request } from '../support/nats-client.js';
import { connectTo } from '../support/nats-server.js';
import { Waiters } from '../support/waiters.js';

/** Short so the test is quick; the default (10 s) is in machines/account/timings.ts. */
const ACK_TIMEOUT_MS = 1_500;
/** One awaited condition: a reconnect and a replay on loopback take well under a second. */
const DEADLINE_MS = 15_000;
/** The simulator's ledger lives outside the fact log: re-checked this often. */
const LEDGER_POLL_MS = 20;
const CHATS = ['4915100000201', '4915100000202'] as const;

type Plan = { id: string; chat: number };

function watch(s: Scenario) {
  const waiters = new Waiters();
  s.running.onFact(() => waiters.poke());
  const of = <T extends Fact['type']>(type: T) =>
    s.facts.filter((f): f is FactOf<T> => f.type === type && f.account === s.account);
  const until = <T>(what: string, probe: () => T | undefined, pollMs?: number) =>
    waiters.until(what, probe, DEADLINE_MS, pollMs);
  const allAcked = (ids: string[]) => () =>
    ids.every((id) => of('send.acked').some((a) => a.id === id && a.ack === 'server')) ? true : undefined;
  return { of, until, allAcked };
}

async function send(nc: NatsConnection, s: Scenario, { id, chat }: Plan): Promise<void> {
  const reply = await request(nc, cmdSubject(s.account, 'send'), { id, to: `+${CHATS[chat]}`, text: `text of ${id}` });
  expect(reply, id).toMatchObject({ ok: true, status: 'queued' });
}

describe('when the server loses sends but the link stays up', () => {
  let s: Scenario;
  let nc: NatsConnection;
  beforeAll(async () => {
    // Keepalive off: a probe would find the silent link dead; here the ack deadline must.
    s = await startScenario({ account: 'lossy', keepalive: 'off', timings: { ackTimeoutMs: ACK_TIMEOUT_MS } });
    nc = await connectTo(s.nats.url);
    await s.entered('open');
  });
  afterAll(async () => {
    await nc?.close();
    await s?.close();
  });

  it('resends the unacknowledged sends and all after them, in order, once each, under the same ids', async () => {
    const w = watch(s);
    const phone = s.provisioned.account.phone;
    // A first send to a chat asks the server for its devices and keys; answered, those
    // are cached, so the sends below go straight to the wire while the server is silent.
    const warm: Plan[] = [
      { id: 'a0', chat: 0 },
      { id: 'b0', chat: 1 },
    ];
    for (const p of warm) await send(nc, s, p);
    await w.until('the first sends acknowledged', w.allAcked(warm.map((p) => p.id)));
    const lost: Plan[] = [
      { id: 'a1', chat: 0 },
      { id: 'b1', chat: 1 },
      { id: 'a2', chat: 0 },
      { id: 'b2', chat: 1 },
      { id: 'a3', chat: 0 },
    ];
    s.sim.setFaults({ silence: true }, phone);
    for (const p of lost) await send(nc, s, p);
    // Written to the socket, read by the server, discarded: no ack will come.
    await w.until('the lost sends written', () =>
      lost.every((p) => w.of('send.sent').some((f) => f.id === p.id)) ? true : undefined,
    );
    const writtenAt = s.facts.length;
    const dead = await w.until('the ack deadline passing', () =>
      s.facts
        .slice(writtenAt)
        .find((f) => f.type === 'transition' && f.account === s.account && f.reason === 'ackTimeout'),
    );
    expect(dead).toMatchObject({ from: 'open', to: 'reconnecting', event: 'AckTimedOut' });
    s.sim.clearFaults(phone, ['silence']);
    // Accepted while the account recovers: they must go out after the resent ones.
    const later: Plan[] = [
      { id: 'a4', chat: 0 },
      { id: 'b3', chat: 1 },
      { id: 'a5', chat: 0 },
    ];
    for (const p of later) await send(nc, s, p);
    const all = [...warm, ...lost, ...later];
    await w.until('every send acknowledged by the server', w.allAcked(all.map((p) => p.id)));

    for (const [c, chat] of CHATS.entries()) {
      const expected = all.filter((p) => p.chat === c).map((p) => waMessageIdFor(s.account, p.id));
      // Every message once, in the order the sends were accepted (chatSeq: arrival order in the chat).
      const ledger = await w.until(
        `chat ${chat} complete at the simulator`,
        () => {
          const entries = s.sim.ledger({ account: phone, chat: `${chat}@s.whatsapp.net` });
          return entries.length >= expected.length ? entries : undefined;
        },
        LEDGER_POLL_MS,
      );
      const arrived = [...ledger].sort((x, y) => x.chatSeq - y.chatSeq);
      expect(arrived.map((e) => e.id)).toEqual(expected);
      expect(arrived.map((e) => e.count)).toEqual(expected.map(() => 1));
    }
    expect(w.of('send.failed')).toEqual([]);
    // Only the ack deadline ended the link: it had looked healthy all along.
    const ends = s.facts.filter((f) => f.type === 'transition' && f.account === s.account && f.to === 'reconnecting');
    expect(new Set(ends.map((f) => (f.type === 'transition' ? f.reason : '')))).toEqual(new Set(['ackTimeout']));
  });
});

describe('the facts of an account in WA_EVENTS', () => {
  let s: Scenario;
  let nc: NatsConnection;
  beforeAll(async () => {
    s = await startScenario({ account: 'ordered' });
    nc = await connectTo(s.nats.url);
    await s.entered('open');
  });
  afterAll(async () => {
    await nc?.close();
    await s?.close();
  });

  it('are in the order they happened: every send queued, then sent, then acknowledged', async () => {
    const w = watch(s);
    const plans: Plan[] = Array.from({ length: 40 }, (_, i) => ({ id: `o${i}`, chat: i % CHATS.length }));
    // Sent concurrently, as clients do: the runtime writes them one after another.
    await Promise.all(plans.map((p) => send(nc, s, p)));
    await w.until('every send acknowledged by the server', w.allAcked(plans.map((p) => p.id)));
    // Every fact so far handed to the stream and stored.
    expect(await s.running.layer.publisher.flushed(s.account)).toBe(true);
    const { events } = await dumpStream(nc, evtFilter(s.account));
    const position = (id: string, type: string, ack?: string) =>
      events.findIndex(
        ({ event: e }) =>
          e.type === type && 'id' in e && e.id === id && (ack === undefined || ('ack' in e && e.ack === ack)),
      );
    const misordered = plans.flatMap(({ id }) => {
      const queued = position(id, 'send.queued');
      const sent = position(id, 'send.sent');
      const acked = position(id, 'send.acked', 'server');
      return queued >= 0 && queued < sent && sent < acked ? [] : [{ id, queued, sent, acked }];
    });
    expect(misordered).toEqual([]);
  });
});
