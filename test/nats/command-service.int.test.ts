/**
 * The command service through real NATS requests, with an in-memory runtime behind
 * the port: every verb, idempotent sends, deadlines, discovery, recovery on start.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import {
  accountsCmdSubject,
  cmdSubject,
  errorReplySchema,
  SERVICE_NAME,
  sendReplySchema,
  statusReplySchema,
} from '../../src/contract/index.js';
import { type NatsLayer, startNatsLayer, type NatsLayerOptions } from '../../src/nats/layer.js';
import { natsServerPerFile } from '../support/nats-server.js';
import { FakeAccounts } from './fake-accounts.js';
import { checkSequences, dumpStream, request } from '../support/nats-client.js';
import { silent } from '../support/loggers.js';
import { until } from '../support/waiters.js';

let nc: NatsConnection;
const layers: NatsLayer[] = [];
let n = 0;
const nextAccount = () => `cmd${++n}`;
const to = '+49 151 0000 0001';
const jid = '4915100000001@s.whatsapp.net';

natsServerPerFile((_server, c) => {
  nc = c;
});
afterEach(async () => {
  for (const l of layers.splice(0)) await l.close();
});

async function layerWith(fake: FakeAccounts, options: Partial<NatsLayerOptions> = {}): Promise<NatsLayer> {
  const layer = await startNatsLayer({ nc, accounts: fake, logger: silent, ...options });
  fake.sink = layer.sink;
  layers.push(layer);
  return layer;
}

/** A layer with one connected account. */
async function oneAccount(options: { autoAck?: boolean; connect?: boolean } = {}) {
  const fake = new FakeAccounts({ autoAck: options.autoAck ?? true });
  const layer = await layerWith(fake);
  const account = nextAccount();
  await layer.addAccount(account, { connect: options.connect ?? true });
  return { fake, layer, account };
}

describe('send', () => {
  it('records send.queued (acked) before handing the send to the runtime, and replies queued', async () => {
    const { fake, layer, account } = await oneAccount();
    const reply = await request(nc, cmdSubject(account, 'send'), { id: 'order-1', to, text: 'hi' });
    expect(sendReplySchema.parse(reply)).toMatchObject({ id: 'order-1', status: 'queued' });
    expect(fake.submits.map((s) => s.send)).toEqual([{ id: 'order-1', to: jid, text: 'hi' }]);
    await layer.publisher.flushed(account);
    const types = (await dumpStream(nc)).events
      .filter((e) => e.event.account === account)
      .map((e) => `${e.event.seq}:${e.event.type}`);
    // Transitions (liveness) and records count their seq apart (src/contract/retention.ts).
    expect(types).toEqual([
      '1:transition',
      '2:transition',
      `${reply['seq']}:send.queued`,
      '2:send.sent',
      '3:send.acked',
    ]);
    expect(reply['seq']).toBe(1);
  });

  it("is idempotent by id: the same id again submits nothing and reports the first one's status", async () => {
    const { fake, layer, account } = await oneAccount();
    const first = await request(nc, cmdSubject(account, 'send'), { id: 'dup-1', to, text: 'hi' });
    await layer.publisher.flushed(account);
    const again = await request(nc, cmdSubject(account, 'send'), { id: 'dup-1', to, text: 'hi' });
    expect(again).toEqual({ ok: true, id: 'dup-1', status: 'acked', seq: first['seq'] });
    expect(fake.submits).toHaveLength(1);
    expect(fake.wire).toHaveLength(1);
  });

  it('answers concurrent requests with the same id with one send', async () => {
    const { fake, account } = await oneAccount({ connect: false });
    const replies = await Promise.all(
      [...Array(5)].map(() => request(nc, cmdSubject(account, 'send'), { id: 'race-1', to, text: 'hi' })),
    );
    expect(new Set(replies.map((r) => r['seq'])).size).toBe(1);
    expect(fake.submits).toHaveLength(1);
  });

  it('generates an id when none is given', async () => {
    const { account } = await oneAccount();
    const reply = sendReplySchema.parse(await request(nc, cmdSubject(account, 'send'), { to, text: 'hi' }));
    expect(reply.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('expires a held send at its deadline (send.expired) and reports it on a repeat', async () => {
    const { fake, layer, account } = await oneAccount({ connect: false });
    const deadline = new Date(Date.now() + 300).toISOString();
    const reply = await request(nc, cmdSubject(account, 'send'), { id: 'late-1', to, text: 'hi', deadline });
    expect(reply).toMatchObject({ ok: true, status: 'queued' });
    expect(fake.submits[0]?.outcome).toBe('held');
    await until('send.expired in the projection', () => layer.projection.send(account, 'late-1')?.status === 'expired');
    expect(await request(nc, cmdSubject(account, 'send'), { id: 'late-1', to, text: 'hi', deadline })).toMatchObject({
      status: 'expired',
    });
    // Connecting later does not send it late.
    fake.connect(account);
    expect(fake.wire).toHaveLength(0);
  });

  it('does not recall a send that went out before its deadline', async () => {
    const { fake, layer, account } = await oneAccount({ autoAck: false });
    const deadline = new Date(Date.now() + 200).toISOString();
    await request(nc, cmdSubject(account, 'send'), { id: 'quick-1', to, text: 'hi', deadline });
    await until('send.sent', () => layer.projection.send(account, 'quick-1')?.status === 'sent');
    await until('the deadline to pass', () => fake.deadlines.size === 0);
    expect(layer.projection.send(account, 'quick-1')?.status).toBe('sent');
    expect(fake.wire).toHaveLength(1);
  });

  it('refuses a send to a never-paired account with not_paired, recording nothing', async () => {
    const fake = new FakeAccounts();
    const layer = await layerWith(fake);
    const account = nextAccount();
    fake.unpaired.add(account);
    await layer.addAccount(account, { connect: false });
    const reply = errorReplySchema.parse(
      await request(nc, cmdSubject(account, 'send'), { id: 'np-1', to, text: 'hi' }),
    );
    expect(reply.error.code).toBe('not_paired');
    expect(reply.error.message).toMatch(/pair/);
    expect(fake.submits).toHaveLength(0);
    expect(layer.projection.send(account, 'np-1')).toBeUndefined();
  });

  it('answers conflict when a send id is reused with a different recipient or text, and the first send stands', async () => {
    const { fake, layer, account } = await oneAccount({ autoAck: false, connect: false });
    const first = await request(nc, cmdSubject(account, 'send'), { id: 'key-1', to, text: 'hi' });
    expect(first).toMatchObject({ ok: true, status: 'queued' });
    // The same request again (recipient spelt another way, a deadline added) is a repeat, not a conflict.
    const later = new Date(Date.now() + 60_000).toISOString();
    expect(
      await request(nc, cmdSubject(account, 'send'), { id: 'key-1', to: jid, text: 'hi', deadline: later }),
    ).toEqual(first);
    for (const other of [
      { to, text: 'hello' },
      { to: '+4915100000002', text: 'hi' },
    ]) {
      const reply = errorReplySchema.parse(await request(nc, cmdSubject(account, 'send'), { id: 'key-1', ...other }));
      expect(reply.error.code).toBe('conflict');
      expect(reply.error.message).not.toContain('hello');
    }
    // Concurrent requests with one id and different texts: one is queued, the others conflict.
    const race = await Promise.all(
      ['a', 'b', 'c'].map((text) => request(nc, cmdSubject(account, 'send'), { id: 'key-2', to, text })),
    );
    expect(race.filter((r) => r.ok)).toHaveLength(1);
    expect(race.filter((r) => !r.ok).map((r) => (r['error'] as { code: string }).code)).toEqual([
      'conflict',
      'conflict',
    ]);
    expect(fake.submits.map((s) => s.send.id)).toEqual(['key-1', 'key-2']);
    // A restarted gateway (projection rebuilt from the stream) still tells them apart.
    await layer.publisher.flushed(account);
    await layer.service.stop();
    layers.splice(layers.indexOf(layer), 1);
    const fake2 = new FakeAccounts();
    fake2.preload(account, 'stopped');
    await layerWith(fake2);
    expect(await request(nc, cmdSubject(account, 'send'), { id: 'key-1', to, text: 'hi' })).toMatchObject({
      ok: true,
      seq: first['seq'],
    });
    expect(
      errorReplySchema.parse(await request(nc, cmdSubject(account, 'send'), { id: 'key-1', to, text: 'bye' })).error
        .code,
    ).toBe('conflict');
  });

  it('refuses a deadline already past, an unknown account and a logged-out account', async () => {
    const { fake, account } = await oneAccount();
    const past = await request(nc, cmdSubject(account, 'send'), { to, text: 'hi', deadline: '2020-01-01T00:00:00Z' });
    expect(errorReplySchema.parse(past).error.code).toBe('bad_request');
    const unknown = await request(nc, cmdSubject('nobody', 'send'), { to, text: 'hi' });
    expect(errorReplySchema.parse(unknown).error.code).toBe('unknown_account');
    await fake.logout(account);
    const out = await request(nc, cmdSubject(account, 'send'), { to, text: 'hi' });
    expect(errorReplySchema.parse(out).error.code).toBe('logged_out');
    expect(fake.submits).toHaveLength(0);
  });
});

describe('the other verbs', () => {
  it('status reports state, since, disconnects, outbox depth and keepalive stats', async () => {
    const { fake, layer, account } = await oneAccount();
    fake.sink({ account, type: 'keepalive', probe: 'ping', outcome: 'ok', rttMs: 42 });
    fake.drop(account, 408);
    await request(nc, cmdSubject(account, 'send'), { id: 'held-1', to, text: 'hi' });
    await layer.publisher.flushed(account);
    const status = statusReplySchema.parse(await request(nc, cmdSubject(account, 'status')));
    expect(status).toMatchObject({
      account,
      state: 'reconnecting',
      outbox: { depth: 1 },
      keepalive: { lastRttMs: 42, timeouts: 0 },
    });
    expect(status.lastDisconnects[0]).toMatchObject({ statusCode: 408, reason: 'connectionLost' });
    expect(status.since).toBe(layer.projection.view(account).since);
  });

  it('connect, disconnect, logout and pair drive the runtime and reply with the state', async () => {
    const { account } = await oneAccount({ connect: false });
    expect(await request(nc, cmdSubject(account, 'connect'), {})).toEqual({ ok: true, account, state: 'open' });
    expect(await request(nc, cmdSubject(account, 'disconnect'))).toEqual({ ok: true, account, state: 'stopped' });
    expect(await request(nc, cmdSubject(account, 'pair'), { phone: '+49 151 0000 0001' })).toEqual({
      ok: true,
      account,
      method: 'code',
      code: 'ABCD-1234',
    });
    expect(await request(nc, cmdSubject(account, 'pair'), '')).toEqual({ ok: true, account, method: 'qr' });
    expect(await request(nc, cmdSubject(account, 'logout'))).toEqual({ ok: true, account, state: 'loggedOut' });
    expect((await request(nc, cmdSubject('ghost', 'connect'))).ok).toBe(false);
  });

  it('accounts.add, list and remove; remove fails what the account still had queued', async () => {
    const fake = new FakeAccounts();
    const layer = await layerWith(fake);
    const account = nextAccount();
    expect(await request(nc, accountsCmdSubject('add'), { account, connect: false })).toEqual({ ok: true, account });
    expect(await request(nc, accountsCmdSubject('list'))).toEqual({
      ok: true,
      accounts: [{ account, state: 'stopped' }],
    });
    await request(nc, cmdSubject(account, 'send'), { id: 'q-1', to, text: 'hi' });
    expect(await request(nc, accountsCmdSubject('remove'), { account })).toEqual({ ok: true, account });
    await until("the removed account's send to fail", () => layer.projection.send(account, 'q-1')?.status === 'failed');
    expect(layer.projection.send(account, 'q-1')?.error?.code).toBe('unknown_account');
    expect((await request(nc, accountsCmdSubject('remove'), { account })).ok).toBe(false);
  });

  it('accounts.add refuses the reserved id "accounts" with bad_request saying why, and adds nothing', async () => {
    const fake = new FakeAccounts();
    await layerWith(fake);
    const reply = errorReplySchema.parse(await request(nc, accountsCmdSubject('add'), { account: 'accounts' }));
    expect(reply.error.code).toBe('bad_request');
    expect(reply.error.message).toMatch(/reserved.*wa\.cmd\.accounts\./);
    expect(fake.accounts.size).toBe(0);
  });

  it("$SRV.STATS counts error replies in num_errors, with the last error's code", async () => {
    const { layer, account } = await oneAccount();
    const bad: [string, unknown][] = [
      [cmdSubject('nobody', 'status'), {}],
      [cmdSubject(account, 'send'), { to: 'not a number', text: 'hi' }],
      [`wa.cmd.${account}.reboot`, {}],
      [cmdSubject(account, 'send'), '{"to":'],
    ];
    for (const [subject, body] of bad) expect((await request(nc, subject, body)).ok).toBe(false);
    expect((await request(nc, cmdSubject(account, 'status'))).ok).toBe(true);
    const stats = await request(nc, `$SRV.STATS.${SERVICE_NAME}.${layer.service.info().id}`);
    const endpoints = stats['endpoints'] as {
      name: string;
      num_requests: number;
      num_errors: number;
      last_error?: string;
    }[];
    const commands = endpoints.find((e) => e.name === 'commands');
    expect(commands).toMatchObject({ num_requests: bad.length + 1, num_errors: bad.length, last_error: 'bad_request' });
  });

  it('is discoverable through $SRV.PING and $SRV.INFO', async () => {
    await oneAccount();
    const ping = await request(nc, `$SRV.PING.${SERVICE_NAME}`);
    expect(ping).toMatchObject({ name: SERVICE_NAME, type: 'io.nats.micro.v1.ping_response' });
    const info = await request(nc, `$SRV.INFO.${SERVICE_NAME}`);
    expect(info['endpoints']).toEqual([expect.objectContaining({ subject: 'wa.cmd.>' })]);
  });
});

describe('when the gateway restarts', () => {
  it('hands each account its outbox in order, with the waMessageId of sends the stream shows as sent', async () => {
    const fake1 = new FakeAccounts({ autoAck: false });
    const layer1 = await layerWith(fake1);
    const account = nextAccount();
    await layer1.addAccount(account, { connect: true });
    await request(nc, cmdSubject(account, 'send'), { id: 'r-1', to, text: 'one' });
    fake1.disconnect(account);
    for (const id of ['r-2', 'r-3']) await request(nc, cmdSubject(account, 'send'), { id, to, text: id });
    const expiring = new Date(Date.now() + 60_000).toISOString();
    await request(nc, cmdSubject(account, 'send'), { id: 'r-4', to, text: 'four', deadline: expiring });
    await layer1.publisher.flushed(account);
    // Crash: layer1 never closes cleanly (its service is stopped so it answers no more).
    await layer1.service.stop();
    layers.splice(layers.indexOf(layer1), 1);

    const fake2 = new FakeAccounts({ autoAck: false });
    fake2.preload(account, 'stopped');
    const layer2 = await layerWith(fake2);
    expect(fake2.submits.map((s) => s.send)).toEqual([
      { id: 'r-1', to: jid, text: 'one', waMessageId: fake1.wire[0]?.waMessageId },
      { id: 'r-2', to: jid, text: 'r-2' },
      { id: 'r-3', to: jid, text: 'r-3' },
      { id: 'r-4', to: jid, text: 'four', deadline: expiring },
    ]);
    expect(fake2.deadlines.size).toBe(1);
    // The second writer continues the first one's sequence.
    fake2.connect(account);
    await layer2.publisher.flushed(account);
    checkSequences((await dumpStream(nc)).events);
    // Replays reuse the WhatsApp id: a receiver sees r-1 once.
    expect(fake2.wire[0]).toEqual(fake1.wire[0]);
  });
});
