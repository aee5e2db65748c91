/**
 * Issue 14, groups: the whole gateway in-process against real Baileys, the simulator and a
 * real nats-server. A group send reaches every participant's device once, also when it is
 * held across a forced 408 and replayed, in order with the 1:1 sends around it.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOnline } from '../../machines/account/states.js';
import { cmdSubject } from '../../src/contract/index.js';
import { waMessageIdFor } from '../../src/runtime/message-id.js';
import type { Fact, FactOf } from '../../src/runtime/port.js';
import type { GroupInfo } from '../../src/simulator/groups/directory.js';
import { startScenario, type Scenario } from '../support/gateway-scenario.js';
import { request } from '../support/nats-client.js';
import { connectTo } from '../support/nats-server.js';
import { until, Waiters } from '../support/waiters.js';

const DEADLINE_MS = 20_000;
/** The simulator's ledger lives outside the fact log: re-checked this often. */
const LEDGER_POLL_MS = 20;
const MEMBERS = ['4915100000301', '4915100000302', '4915100000303'];
const CONTACT = '4915100000310';

let s: Scenario;
let nc: NatsConnection;
let phone: string;
let group: GroupInfo;
let w: ReturnType<typeof watch>;

function watch(sc: Scenario) {
  const waiters = new Waiters();
  sc.running.onFact(() => waiters.poke());
  const of = <T extends Fact['type']>(type: T) =>
    sc.facts.filter((f): f is FactOf<T> => f.type === type && f.account === sc.account);
  const until = <T>(what: string, probe: () => T | undefined, pollMs?: number) =>
    waiters.until(what, probe, DEADLINE_MS, pollMs);
  const acked = (ids: string[]) => () =>
    ids.every((id) => of('send.acked').some((a) => a.id === id && a.ack === 'server')) ? true : undefined;
  return { of, until, acked };
}

beforeAll(async () => {
  // No keepalive and a patient ack deadline: on a loaded machine a late pong would drop the
  // link, and this file's drops are the ones it forces.
  s = await startScenario({ account: 'grp', keepalive: 'off', timings: { ackTimeoutMs: 10_000 } });
  nc = await connectTo(s.nats.url);
  phone = s.provisioned.account.phone;
  group = s.sim.createGroup({ subject: 'Alerts', participants: [phone, ...MEMBERS], admins: [MEMBERS[0]!] });
  w = watch(s);
  await s.entered('open');
});
afterAll(async () => {
  await nc?.close();
  await s?.close();
});

async function send(id: string, to: string): Promise<void> {
  const reply = await request(nc, cmdSubject(s.account, 'send'), { id, to, text: `text of ${id}` });
  expect(reply, id).toMatchObject({ ok: true });
}

/** A command that needs the live link, asked again while the account is (re)connecting. */
async function whenLive(verb: 'groups' | 'presence', body: Record<string, unknown>): Promise<Record<string, unknown>> {
  return until(
    `${verb} answered on a live link`,
    async () => {
      const reply = (await request(nc, cmdSubject(s.account, verb), body)) as Record<string, unknown>;
      const code = (reply.error as { code?: string } | undefined)?.code;
      return code === 'unavailable' ? undefined : reply;
    },
    DEADLINE_MS,
    LEDGER_POLL_MS,
  );
}

const everyDevice = () => Object.fromEntries([phone, ...MEMBERS].map((p) => [`${p}@s.whatsapp.net`, 1]));

describe('a send to a group', () => {
  it('reaches every participant device once, also held across a 408 and replayed in order', async () => {
    const plan: [string, string][] = [
      ['u1', `+${CONTACT}`],
      ['g1', group.jid],
    ];
    for (const [id, to] of plan) await send(id, to);
    await w.until('the first sends acknowledged', w.acked(plan.map(([id]) => id)));
    // The server goes dark and cuts the session with 408: the account cannot log in again
    // until the silence ends, so the next sends are held.
    s.sim.setFaults({ silence: true });
    s.sim.inject({ type: 'stream-error', code: 408 }, phone);
    await s.entered('reconnecting');
    const held: [string, string][] = [
      ['g2', group.jid],
      ['u2', `+${CONTACT}`],
      ['g3', group.jid],
    ];
    for (const [id, to] of held) await send(id, to);
    expect(w.of('send.sent').filter((f) => held.some(([id]) => id === f.id))).toEqual([]);
    s.sim.clearFaults(undefined, ['silence']);
    const all = [...plan, ...held];
    await w.until('every send acknowledged by the server', w.acked(all.map(([id]) => id)));

    const expected = all.map(([id]) => waMessageIdFor(s.account, id));
    const ledger = await w.until(
      'every send at the simulator',
      () => {
        const entries = s.sim.ledger({ account: phone });
        return entries.length >= expected.length ? entries : undefined;
      },
      LEDGER_POLL_MS,
    );
    // Once each, in the order the sends were accepted, groups and 1:1 interleaved.
    expect(ledger.map((e) => e.id)).toEqual(expected);
    expect(ledger.map((e) => e.count)).toEqual(expected.map(() => 1));
    for (const e of ledger.filter((x) => x.chat === group.jid)) {
      expect(e.text).toBe(`text of ${all.find(([id]) => waMessageIdFor(s.account, id) === e.id)?.[0]}`);
      expect(e.recipients).toEqual(everyDevice());
    }
    expect(w.of('send.failed')).toEqual([]);
  });
});

describe('inbound group messages, the group list and membership', () => {
  it('turns a member writing to the group into message.in with chat and participant', async () => {
    const { id } = s.sim.pushInbound({ account: phone, from: MEMBERS[1]!, group: group.jid, text: 'server down?' });
    const msg = await w.until('message.in from the group', () => w.of('message.in').find((m) => m.waMessageId === id));
    expect(msg).toMatchObject({
      chat: group.jid,
      from: `${MEMBERS[1]}@s.whatsapp.net`,
      participant: `${MEMBERS[1]}@s.whatsapp.net`,
      text: 'server down?',
    });
  });

  it('lists the groups the simulator has for the account', async () => {
    const other = s.sim.createGroup({ subject: 'Ops', participants: [MEMBERS[0]!, phone] });
    s.sim.createGroup({ subject: 'Not ours', participants: MEMBERS });
    const reply = (await whenLive('groups', {})) as {
      ok: boolean;
      groups: { jid: string; subject: string; participants: { jid: string; role: string }[] }[];
    };
    expect(reply.ok, JSON.stringify(reply)).toBe(true);
    const byJid = new Map(reply.groups.map((g) => [g.jid, g]));
    expect([...byJid.keys()].sort()).toEqual([group.jid, other.jid].sort());
    expect(byJid.get(group.jid)?.subject).toBe('Alerts');
    expect(byJid.get(group.jid)?.participants).toEqual([
      { jid: `${phone}@s.whatsapp.net`, role: 'superadmin' },
      { jid: `${MEMBERS[0]}@s.whatsapp.net`, role: 'admin' },
      ...MEMBERS.slice(1).map((p) => ({ jid: `${p}@s.whatsapp.net`, role: 'member' })),
    ]);
    expect(byJid.get(other.jid)?.participants[0]).toEqual({ jid: `${MEMBERS[0]}@s.whatsapp.net`, role: 'superadmin' });
  });

  it('reports a membership change as group.participants', async () => {
    const added = '4915100000399';
    s.sim.changeGroup({ group: group.jid, action: 'add', participants: [added], by: MEMBERS[0]! });
    const change = await w.until('group.participants', () => w.of('group.participants').at(-1));
    expect(change).toMatchObject({
      chat: group.jid,
      action: 'add',
      participants: [`${added}@s.whatsapp.net`],
      by: `${MEMBERS[0]}@s.whatsapp.net`,
    });
    s.sim.changeGroup({ group: group.jid, action: 'remove', participants: [added] });
    await w.until('the removal', () => w.of('group.participants').find((c) => c.action === 'remove'));
  });
});

describe('read receipts, chat state and receipts of our sends', () => {
  it('marks messages read at the contact, 1:1 and in the group', async () => {
    const one = s.sim.pushInbound({ account: phone, from: CONTACT, text: 'ping' });
    const two = s.sim.pushInbound({ account: phone, from: MEMBERS[2]!, group: group.jid, text: 'in group' });
    await w.until('both inbound', () =>
      [one.id, two.id].every((id) => w.of('message.in').some((m) => m.waMessageId === id)) ? true : undefined,
    );
    await s.entered('open');
    expect(await request(nc, cmdSubject(s.account, 'read'), { chat: `+${CONTACT}`, ids: [one.id] })).toMatchObject({
      ok: true,
      chat: `${CONTACT}@s.whatsapp.net`,
    });
    expect(await request(nc, cmdSubject(s.account, 'read'), { chat: group.jid, ids: [two.id] })).toMatchObject({
      ok: true,
    });
    const reads = await w.until(
      'both reads at the simulator',
      () => {
        const r = s.sim.chatLog({ account: phone }).filter((e) => e.kind === 'read');
        return r.length >= 2 ? r : undefined;
      },
      LEDGER_POLL_MS,
    );
    expect(reads).toMatchObject([
      { chat: `${CONTACT}@s.whatsapp.net`, ids: [one.id] },
      { chat: group.jid, ids: [two.id], participant: `${MEMBERS[2]}@s.whatsapp.net` },
    ]);
  });

  it('shows typing, recording and paused in the chat', async () => {
    for (const state of ['composing', 'recording', 'paused'] as const) {
      const reply = await whenLive('presence', { chat: group.jid, state });
      expect(reply, JSON.stringify(reply)).toMatchObject({ ok: true, chat: group.jid, state });
    }
    const states = await w.until(
      'three chat states at the simulator',
      () => {
        const c = s.sim.chatLog({ account: phone, chat: group.jid }).filter((e) => e.kind === 'chatstate');
        return c.length >= 3 ? c : undefined;
      },
      LEDGER_POLL_MS,
    );
    expect(states.map((e) => (e.kind === 'chatstate' ? e.state : ''))).toEqual(['composing', 'recording', 'paused']);
  });

  it('reports delivered and read per participant as receipt events', async () => {
    s.sim.setFaults({ receipts: { delivery: true, read: true, deliveryDelayMs: 0, readDelayMs: 0 } }, phone);
    await send('g-receipts', group.jid);
    const others = MEMBERS.map((p) => `${p}@s.whatsapp.net`).sort();
    const receipts = await w.until('a read receipt from every other participant', () => {
      const r = w.of('receipt').filter((e) => e.id === 'g-receipts');
      return r.filter((e) => e.status === 'read').length >= MEMBERS.length ? r : undefined;
    });
    for (const status of ['delivered', 'read'] as const)
      expect(
        receipts
          .filter((e) => e.status === status)
          .map((e) => e.participant)
          .sort(),
      ).toEqual(others);
    expect(
      receipts.every((e) => e.chat === group.jid && e.waMessageId === waMessageIdFor(s.account, 'g-receipts')),
    ).toBe(true);
    // send.acked reports the first receipt of each kind once.
    expect(
      w
        .of('send.acked')
        .filter((a) => a.id === 'g-receipts')
        .map((a) => a.ack),
    ).toEqual(['server', 'delivered', 'read']);
    s.sim.clearFaults(phone, ['receipts']);
  });

  it('holds a read while the account is down and sends it after the next login; refuses presence', async () => {
    const msg = s.sim.pushInbound({ account: phone, from: CONTACT, text: 'read me later' });
    await w.until('inbound', () => w.of('message.in').find((m) => m.waMessageId === msg.id));
    const opened = s.facts.filter((f) => f.type === 'transition' && f.account === s.account && f.to === 'open').length;
    s.sim.setFaults({ silence: true });
    s.sim.inject({ type: 'stream-error', code: 408 }, phone);
    // Down, not merely idle or pinging on the silenced socket: a read is held only then.
    await w.until('down', () => (isOnline(s.running.gateway.state(s.account)) ? undefined : true));
    expect(await request(nc, cmdSubject(s.account, 'read'), { chat: `+${CONTACT}`, ids: [msg.id] })).toMatchObject({
      ok: true,
      status: 'held',
    });
    expect(
      await request(nc, cmdSubject(s.account, 'presence'), { chat: `+${CONTACT}`, state: 'composing' }),
    ).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect(s.sim.chatLog({ account: phone }).some((e) => e.kind === 'read' && e.ids.includes(msg.id))).toBe(false);
    s.sim.clearFaults(undefined, ['silence']);
    await s.entered('open', opened + 1);
    await w.until(
      'the held read at the simulator',
      () => s.sim.chatLog({ account: phone }).find((e) => e.kind === 'read' && e.ids.includes(msg.id)),
      LEDGER_POLL_MS,
    );
  });
});
