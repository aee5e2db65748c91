import { describe, expect, it } from 'vitest';
import { BufferJSON, type AuthenticationCreds } from '@whiskeysockets/baileys';
import { connectClient, simulatorPerFile, type TestClient } from '../support/simulator-client.js';
import { memoryAuth } from '../support/credentials.js';

const fx = simulatorPerFile();
const { clients } = fx;

interface Reply {
  status: number;
  body: Record<string, unknown> & { ok: boolean; error?: { code: string; message: string } };
}

async function call(method: string, path: string, body?: unknown, raw?: string): Promise<Reply> {
  const init: RequestInit = { method };
  if (raw !== undefined) init.body = raw;
  else if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(`${fx.sim.httpUrl}${path}`, init);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text, BufferJSON.reviver) as Reply['body'] };
}

describe('control API', () => {
  let phone: string;
  let client: TestClient;

  it('serves health and the root public key', async () => {
    expect((await call('GET', '/healthz')).body.ok).toBe(true);
    const key = await call('GET', '/root-key');
    expect(key.body.rootPublicKey).toBe(fx.sim.rootPublicKey);
    expect(Buffer.from(String(key.body.rootPublicKey), 'base64')).toHaveLength(32);
  });

  it('provisions an account whose credentials log in', async () => {
    const r = await call('POST', '/accounts', { name: 'Api', preKeys: 3 });
    expect(r.status).toBe(200);
    const account = r.body.account as { phone: string; jid: string };
    phone = account.phone;
    const creds = r.body.creds as AuthenticationCreds;
    expect(creds.me?.id).toBe(account.jid);
    expect(Buffer.isBuffer(creds.noiseKey.private)).toBe(true);
    client = connectClient(fx.sim, memoryAuth(creds, r.body.keys as Record<string, Record<string, unknown>>));
    clients.push(client);
    await client.open();
    const accounts = await call('GET', '/accounts');
    expect(
      (accounts.body.accounts as { phone: string; connected: boolean }[]).find((a) => a.phone === phone)?.connected,
    ).toBe(true);
  });

  it('reports process stats', async () => {
    const stats = (await call('GET', '/stats')).body as unknown as {
      pid: number;
      memory: { rss: number };
      sessions: number;
    };
    expect(stats.pid).toBe(process.pid);
    expect(stats.memory.rss).toBeGreaterThan(0);
    expect(stats.sessions).toBeGreaterThanOrEqual(1);
  });

  it('lists sessions with connection ids and last traffic', async () => {
    const sessions = (await call('GET', '/sessions')).body.sessions as {
      connectionId: string;
      account?: string;
      lastTrafficAt: number;
    }[];
    const mine = sessions.find((s) => s.account === phone);
    expect(mine?.connectionId).toMatch(/^c\d+$/);
    expect(mine?.lastTrafficAt).toBeGreaterThan(0);
  });

  it('pushes an inbound message and reads the ledger', async () => {
    const pushed = await call('POST', '/inbound', { account: phone, from: '15557770020', text: 'via http' });
    expect(pushed.body).toMatchObject({ ok: true, status: 'sent' });
    await client.until('inbound via http', () =>
      client.upserts.find((u) => u.messages.some((m) => m.key.id === pushed.body.id)),
    );
    const sent = await client.sock.sendMessage('15557770020@s.whatsapp.net', { text: 'reply via http test' });
    await client.until('ack', () => client.acks.find((a) => a.id === sent?.key.id));
    const all = (await call('GET', '/ledger')).body.entries as { id: string }[];
    expect(all.map((e) => e.id)).toContain(sent?.key.id);
    const mine = (await call('GET', `/ledger?account=${phone}&chat=15557770020@s.whatsapp.net`)).body.entries as {
      text: string;
      count: number;
    }[];
    expect(mine).toEqual([expect.objectContaining({ text: 'reply via http test', count: 1 })]);
    expect((await call('GET', '/ledger?account=15550009999')).body.entries).toEqual([]);
  });

  it('sets, reads and clears faults, per account and global', async () => {
    const set = await call('PUT', '/faults', { account: phone, ackLatencyMs: 5, idleTimeout: { afterMs: 60_000 } });
    expect(set.status).toBe(200);
    const faults = (await call('GET', '/faults')).body.faults as {
      accounts: Record<string, { idleTimeout?: { resetBy: string[]; code: number } }>;
    };
    expect(faults.accounts[phone]?.idleTimeout).toEqual({
      afterMs: 60_000,
      resetBy: ['message', 'receipt', 'presence', 'iq', 'notification'],
      code: 408,
    });
    expect((await call('PUT', '/faults', { pingLatencyMs: 1 })).status).toBe(200);
    expect((await call('DELETE', '/faults', { account: phone, keys: ['idleTimeout'] })).status).toBe(200);
    expect((await call('DELETE', '/faults')).status).toBe(200);
    const after = (await call('GET', '/faults')).body.faults as { global: object; accounts: Record<string, unknown> };
    expect(after.global).toEqual({});
    expect(after.accounts[phone]).toEqual({ ackLatencyMs: 5 });
  });

  it('injects a one-shot action', async () => {
    const r = await call('POST', '/actions', { account: phone, type: 'stream-error', code: 515 });
    expect((r.body.connections as string[]).length).toBe(1);
    expect(await client.closed()).toBe(515);
  });

  it('rejects a QR and a pairing code nobody is showing', async () => {
    expect((await call('POST', '/pairing/qr', { qr: 'nope,a,b,c' })).status).toBe(404);
    expect((await call('POST', '/pairing/code', { phone: '15551234567', code: 'ABCD1234' })).status).toBe(404);
  });

  it('resets faults, ledger and queues', async () => {
    await call('POST', '/inbound', { account: phone, from: '15557770021', text: 'queued' });
    expect((await call('POST', '/reset')).status).toBe(200);
    expect((await call('GET', '/ledger')).body.entries).toEqual([]);
    expect((await call('GET', '/faults')).body.faults).toEqual({ global: {}, accounts: {} });
    expect((await call('GET', '/accounts')).body.accounts).toContainEqual(
      expect.objectContaining({ phone, queuedInbound: 0 }),
    );
  });

  describe('bad input', () => {
    it.each([
      ['bad JSON', 'POST', '/inbound', undefined, '{not json', 400, 'bad_request'],
      [
        'unknown account on inbound',
        'POST',
        '/inbound',
        { account: '15550009999', from: '15557770001', text: 'x' },
        undefined,
        404,
        'unknown_account',
      ],
      [
        'unknown account on faults',
        'PUT',
        '/faults',
        { account: '15550009999', silence: true },
        undefined,
        404,
        'unknown_account',
      ],
      [
        'unknown account on actions',
        'POST',
        '/actions',
        { account: '15550009999', type: 'close' },
        undefined,
        404,
        'unknown_account',
      ],
      ['unknown fault field', 'PUT', '/faults', { explode: true }, undefined, 400, 'bad_request'],
      ['unknown action type', 'POST', '/actions', { type: 'explode' }, undefined, 400, 'bad_request'],
      ['bad phone', 'POST', '/accounts', { phone: 'abc' }, undefined, 400, 'bad_request'],
      ['existing phone', 'POST', '/accounts', undefined, undefined, 400, 'bad_request'],
      ['bad ledger query', 'GET', '/ledger?bogus=1', undefined, undefined, 400, 'bad_request'],
      ['unknown route', 'GET', '/nope', undefined, undefined, 404, 'not_found'],
    ] as const)('%s → %i', async (_name, method, path, body, raw, status, code) => {
      const payload = _name === 'existing phone' ? { phone } : body;
      const r = await call(method, path, payload, raw);
      expect(r.status).toBe(status);
      expect(r.body).toMatchObject({ ok: false, error: { code } });
    });
  });
});
