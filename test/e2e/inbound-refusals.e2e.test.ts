/**
 * Issue 14, items 3 and 4, on the whole gateway in-process (startGateway) against real
 * Baileys, the simulator and a real nats-server: nothing inbound disappears (a message
 * Baileys cannot decrypt is reported, asked for again, and then arrives once), and
 * refusals that must not be retried are never retried; a 402 ban is waited out, a 405
 * stops the account.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmdSubject } from '../../src/contract/index.js';
import type { Fact, FactOf } from '../../src/runtime/port.js';
import { lidOf } from '../../src/simulator/accounts/jids.js';
import { get, startScenario, type Scenario } from '../support/gateway-scenario.js';
import { request } from '../support/nats-client.js';
import { connectTo } from '../support/nats-server.js';
import { Waiters } from '../support/waiters.js';

/** One awaited condition: a reconnect, a retry receipt round trip, a 2 s ban. */
const DEADLINE_MS = 15_000;

function watch(s: Scenario) {
  const waiters = new Waiters();
  /** Wall time each fact reached the gateway's listeners (facts carry no `at`). */
  const seenAt = new Map<Fact, number>();
  s.running.onFact((f) => {
    seenAt.set(f, Date.now());
    waiters.poke();
  });
  const of = <T extends Fact['type']>(type: T) =>
    s.facts.filter((f): f is FactOf<T> => f.type === type && f.account === s.account);
  const until = <T>(what: string, probe: () => T | undefined) => waiters.until(what, probe, DEADLINE_MS);
  return { of, until, seenAt };
}

describe('nothing inbound disappears', () => {
  let s: Scenario;
  let w: ReturnType<typeof watch>;
  let phone: string;
  beforeAll(async () => {
    s = await startScenario({ account: 'inbound' });
    w = watch(s);
    phone = s.provisioned.account.phone;
    await s.entered('open');
  });
  afterAll(async () => s?.close());

  it('reports an undecryptable message, then delivers its retried copy once', async () => {
    s.sim.setFaults({ undecryptableInbound: { count: 1 } }, phone);
    const { id } = s.sim.pushInbound({ account: phone, from: '4915100000301', text: 'first try fails' });
    const delivered = await w.until('the retried copy', () => w.of('message.in').find((m) => m.waMessageId === id));
    expect(delivered).toMatchObject({ from: '4915100000301@s.whatsapp.net', text: 'first try fails' });
    expect(w.of('message.undecryptable')).toEqual([
      expect.objectContaining({ waMessageId: id, from: '4915100000301@s.whatsapp.net', reason: 'Bad MAC' }),
    ]);
    // Reported before it arrived; once each.
    const order = s.facts.filter((f) => 'waMessageId' in f && f.waMessageId === id).map((f) => f.type);
    expect(order).toEqual(['message.undecryptable', 'message.in']);
    const metrics = await get(`${s.url}/metrics`);
    expect(metrics.text).toMatch(/wa_messages_undecryptable_total\{account="inbound",kind="bad_mac"\} 1\b/);
  });

  // Baileys may race two prekey messages of a new contact ("Invalid PreKey ID"; seen with
  // the file auth store under load, not reproducible at will), so the first one is made
  // undecryptable here: the second starts the session, the first comes back by retry.
  it('delivers back-to-back prekey messages from a new contact, each once, the first by retry', async () => {
    s.sim.setFaults({ undecryptableInbound: { count: 1 } }, phone);
    const texts = ['one', 'two', 'three', 'four'];
    const ids = texts.map((text) => s.sim.pushInbound({ account: phone, from: '4915100000302', text }).id);
    await w.until('all four', () =>
      ids.every((id) => w.of('message.in').some((m) => m.waMessageId === id)) ? true : undefined,
    );
    const got = w.of('message.in').filter((m) => ids.includes(m.waMessageId));
    expect(got.map((m) => m.text).sort()).toEqual([...texts].sort());
    expect(new Set(got.map((m) => m.waMessageId)).size).toBe(4);
    expect(
      w
        .of('message.undecryptable')
        .filter((m) => ids.includes(m.waMessageId))
        .map((m) => m.waMessageId),
    ).toEqual([ids[0]]);
  });

  it('receives from a LID contact with its phone number, and sends to its LID', async () => {
    const contact = '4915100000303';
    // The simulator writes from `<lid>@lid` with `sender_pn`: Baileys' remoteJidAlt.
    const { id } = s.sim.pushInbound({ account: phone, from: contact, text: 'from a lid' });
    const m = await w.until('inbound from lid', () => w.of('message.in').find((x) => x.waMessageId === id));
    expect(m.from).toBe(`${contact}@s.whatsapp.net`);
    const nc = await connectTo(s.nats.url);
    try {
      const reply = await request(nc, cmdSubject(s.account, 'send'), {
        id: 'to-lid',
        to: `${lidOf(contact)}@lid`,
        text: 'hello lid',
      });
      expect(reply).toMatchObject({ ok: true });
      await w.until('ack', () => w.of('send.acked').find((a) => a.id === 'to-lid'));
    } finally {
      await nc.close();
    }
    expect(s.sim.ledger({ account: phone, chat: `${contact}@s.whatsapp.net` })).toEqual([
      expect.objectContaining({ text: 'hello lid', decrypted: true, count: 1 }),
    ]);
  });
});

describe('refusals that must not be retried', () => {
  let s: Scenario;
  let w: ReturnType<typeof watch>;
  let nc: NatsConnection;
  let phone: string;
  beforeAll(async () => {
    s = await startScenario({ account: 'refused' });
    w = watch(s);
    nc = await connectTo(s.nats.url);
    phone = s.provisioned.account.phone;
    await s.entered('open');
  });
  afterAll(async () => {
    await nc?.close();
    await s?.close();
  });

  for (const [error, reason] of [
    ['463', 'reachOutRestricted'],
    ['479', 'invalidStanza'],
  ] as const) {
    it(`fails a send refused with ${error} for good, and never replays it after a reconnect`, async () => {
      const contact = `49151000004${error}`;
      s.sim.setFaults({ rejectSends: { error, to: contact } }, phone);
      const id = `refused-${error}`;
      const reply = await request(nc, cmdSubject(s.account, 'send'), { id, to: `+${contact}`, text: 'x' });
      expect(reply).toMatchObject({ ok: true });
      const failed = await w.until('send.failed', () => w.of('send.failed').find((f) => f.id === id));
      expect(failed).toMatchObject({
        retryable: false,
        statusCode: Number(error),
        reason,
        error: { code: 'bad_request' },
      });
      // A reconnect, then a send after it: the refused one is not among what goes out.
      const opens = w.of('transition').filter((t) => t.to === 'open').length;
      s.sim.inject({ type: 'stream-error', code: 408 }, phone);
      await w.until('open again', () =>
        w.of('transition').filter((t) => t.to === 'open').length > opens ? true : undefined,
      );
      const after = `after-${error}`;
      await request(nc, cmdSubject(s.account, 'send'), { id: after, to: '+4915100000499', text: 'y' });
      await w.until('later send acked', () => w.of('send.acked').find((a) => a.id === after));
      expect(w.of('send.sent').filter((f) => f.id === id)).toHaveLength(1);
      expect(w.of('send.failed').filter((f) => f.id === id)).toHaveLength(1);
      expect(w.of('send.acked').filter((f) => f.id === id)).toHaveLength(0);
      const status = await request(nc, cmdSubject(s.account, 'status'), {});
      expect(status).toMatchObject({ ok: true });
      expect((status as { outboxDepth?: number }).outboxDepth ?? 0).toBe(0);
      s.sim.clearFaults(phone, ['rejectSends']);
    });
  }
});

describe('a temporary ban and an outdated client', () => {
  let s: Scenario;
  let w: ReturnType<typeof watch>;
  let phone: string;
  beforeAll(async () => {
    s = await startScenario({ account: 'banned' });
    w = watch(s);
    phone = s.provisioned.account.phone;
    await s.entered('open');
  });
  afterAll(async () => s?.close());

  it('waits out a 402 ban until its expiry, then reconnects normally', async () => {
    s.sim.inject({ type: 'failure', reason: 402, expire: 2, code: 101 }, phone);
    const ban = await w.until('account.banned', () => w.of('account.banned')[0]);
    expect(ban).toMatchObject({ statusCode: 402, banCode: 101 });
    const until = Date.parse(ban.until);
    const banAt = w.seenAt.get(ban)!;
    // The expiry is the ban's 2 s from the close: in the future when announced, no later.
    expect(until).toBeGreaterThan(banAt);
    expect(until - banAt).toBeLessThanOrEqual(2_000);
    const down = w.of('transition').find((t) => t.statusCode === 402);
    expect(down).toMatchObject({ to: 'reconnecting', reason: 'temporarilyBanned' });
    const opens = w.of('transition').filter((t) => t.to === 'open').length;
    await w.until('open after the ban', () =>
      w.of('transition').filter((t) => t.to === 'open').length > opens ? true : undefined,
    );
    const tail = w.of('transition').slice(w.of('transition').indexOf(down!));
    expect(tail.map((t) => t.to)).toEqual(['reconnecting', 'connecting', 'open']);
    // No attempt before the expiry: the one connect came after it.
    const connecting = tail[1]!;
    expect(connecting.reason).toBe('backoffElapsed');
    expect(w.seenAt.get(connecting)!).toBeGreaterThanOrEqual(until);
  });

  it('stops on 405 and says the client is outdated', async () => {
    s.sim.inject({ type: 'failure', reason: 405 }, phone);
    await w.until('stopped', () => w.of('transition').find((t) => t.to === 'stopped'));
    expect(w.of('transition').at(-1)).toMatchObject({ to: 'stopped', statusCode: 405, reason: 'clientOutdated' });
    expect(s.running.gateway.state(s.account)).toBe('stopped');
  });
});
