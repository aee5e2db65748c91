/**
 * Every `wa-connd` command that talks to a gateway, run as a child process against a
 * real nats-server, the simulator and a gateway started in-process: what it prints and
 * how it exits.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWaClient, type WaClient } from '../../src/client/index.js';
import { waEventSchema } from '../../src/contract/index.js';
import { startNatsServer } from '../support/nats-server.js';
import { startWorld, type World } from './support.js';
import { runCli, startCli } from '../support/gateway-child.js';
import { until } from '../support/waiters.js';

const TO = '+4915100000101';
const CHAT = '4915100000101@s.whatsapp.net';

describe('wa-connd commands against a running gateway', () => {
  let w: World;
  let wa: WaClient;
  const cli = (...args: string[]) => runCli(args, w.env);

  beforeAll(async () => {
    w = await startWorld(['alpha']);
    wa = await connectWaClient({ servers: w.nats.url });
    await until('alpha open', async () => (await wa.status('alpha')).state === 'open', 20_000, 50);
  });
  afterAll(async () => {
    await wa?.close();
    await w?.close();
  });

  it('--help on the program and on a command exits 0 and documents the exit codes', async () => {
    const top = await cli('--help');
    expect(top.code).toBe(0);
    for (const c of ['start', 'demo', 'simulator', 'accounts', 'pair', 'send', 'status', 'events'])
      expect(top.stdout).toContain(c);
    expect(top.stdout).toMatch(/3\s+no NATS server reachable/);
    expect(top.stdout).toMatch(/5\s+timed out/);
    const send = await cli('send', '--help');
    expect(send.code).toBe(0);
    expect(send.stdout).toContain('--deadline');
  });

  it('accounts list shows the accounts and their states, as text or JSON', async () => {
    const text = await cli('accounts', 'list');
    expect(text.code).toBe(0);
    // Connected: open, or idle/pinging while a keepalive probe runs.
    expect(text.stdout).toMatch(/^alpha\s+(open|idle|pinging)$/m);
    const json = await cli('accounts', 'list', '--json');
    expect(JSON.parse(json.stdout)).toEqual([
      { account: 'alpha', state: expect.stringMatching(/^(open|idle|pinging)$/) },
    ]);
  });

  it('send hands the message to the gateway, which delivers it once; the same --id is not sent again', async () => {
    const first = await cli('send', 'alpha', TO, 'hello from the cli', '--id', 'cli-1');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^cli-1 queued \(event #\d+\)$/m);
    const phone = w.phones.get('alpha')!;
    await until(
      'the message in the ledger',
      () => w.sim.ledger({ account: phone, chat: CHAT }).find((e) => e.text === 'hello from the cli'),
      10_000,
      20,
    );
    const again = await cli('send', 'alpha', TO, 'hello from the cli', '--id', 'cli-1', '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      ok: true,
      id: 'cli-1',
      status: expect.stringMatching(/^(sent|acked)$/),
    });
    expect(w.sim.ledger({ account: phone, chat: CHAT }).filter((e) => e.text === 'hello from the cli')).toHaveLength(1);
  });

  it('a send the gateway refuses exits 1 with "code: message"', async () => {
    const bad = await cli('send', 'alpha', '0151 2345', 'hi');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^bad_request: phone must be an international number/m);
    const unknown = await cli('status', 'nobody');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^unknown_account: no account "nobody"/m);
  });

  it('status shows one account, or every account', async () => {
    const one = await cli('status', 'alpha');
    expect(one.code).toBe(0);
    // Connected means open, or idle/pinging during a keepalive probe.
    expect(one.stdout).toMatch(/^alpha: (open|idle|pinging) since \S+Z$/m);
    expect(one.stdout).toMatch(/outbox: \d+ held/);
    const all = await cli('status', '--json');
    expect(all.code).toBe(0);
    expect(
      all.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { account: string }),
    ).toEqual([expect.objectContaining({ account: 'alpha', state: expect.stringMatching(/^(open|idle|pinging)$/) })]);
  });

  it('disconnect and connect move the account, as the event stream records', async () => {
    const stop = await cli('disconnect', 'alpha');
    expect(stop.code).toBe(0);
    // An operator stop drains first; the command waits for the end of the drain, as docs/cli.md shows.
    expect(stop.stdout.trim()).toBe('alpha: stopped');
    expect((await wa.status('alpha')).state).toBe('stopped');
    const start = await cli('connect', 'alpha');
    expect(start.code).toBe(0);
    expect(start.stdout).toMatch(/^alpha: (connecting|open)$/m);
    await until('alpha open again', async () => (await wa.status('alpha')).state === 'open', 20_000, 50);
  });

  it('events --since start --no-follow --json prints the stream as valid events with their stream sequence', async () => {
    const r = await cli('events', 'alpha', '--since', 'start', '--no-follow', '--json');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) {
      const { streamSeq, ...event } = l;
      expect(typeof streamSeq).toBe('number');
      expect(waEventSchema.safeParse(event).success).toBe(true);
    }
    expect(lines.some((l) => l.type === 'transition' && l.to === 'open')).toBe(true);
    // Resume after the third event: exactly the rest.
    const third = lines[2]!.streamSeq as number;
    const rest = await cli('events', 'alpha', '--since', String(third + 1), '--no-follow', '--json');
    expect(
      rest.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { streamSeq: number }).streamSeq),
    ).toEqual(lines.slice(3).map((l) => l.streamSeq));
  });

  it('events tails new events, filtered by type, human-readable, without message text', async () => {
    // Three events: a send makes one send.queued and two send.acked (server, delivered), so any
    // three in a row hold a send.queued, wherever the tail's consumer starts.
    const tail = startCli(['events', 'alpha', '--type', 'send.queued', 'send.acked', '--limit', '3'], w.env);
    let exited = false;
    void tail.exited.then(() => (exited = true));
    // The tail reads new events only: send until it has printed its three and exited (its
    // consumer may start after the first send, or between a send's queued and its acks).
    let n = 0;
    const sending = until(
      'the tail to print three events and exit',
      async () => {
        if (exited) return true;
        await wa.send('alpha', { id: `tail-${++n}`, to: TO, text: 'secret words' });
        return undefined;
      },
      20_000,
      300,
    );
    await sending;
    const r = await tail.exited;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /alpha\s+#\d+\s+send\.queued\s+tail-\d+ to 4915100000101@s\.whatsapp\.net, text, 12 chars/,
    );
    expect(r.stdout).not.toContain('secret words');
  });

  it('accounts add, pair by QR until the phone scanned it, and accounts remove', async () => {
    const add = await cli('accounts', 'add', 'beta', '--no-connect', '--keepalive', 'ping');
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/^added beta/);
    const pairing = startCli(['pair', 'beta', '--wait-timeout', '30s'], w.env);
    const [, qr] = await pairing.waitFor(/^qr (\S+)$/m);
    w.sim.scanQr(qr!);
    const r = await pairing.exited;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^paired beta as \S+@s\.whatsapp\.net$/m);
    const remove = await cli('accounts', 'remove', 'beta');
    expect(remove.code).toBe(0);
    expect((await wa.accounts()).map((a) => a.account)).toEqual(['alpha']);
  });

  it('pair that is not scanned in time exits 5 (timed out), not 2 (usage)', async () => {
    await wa.addAccount('epsilon', { connect: false });
    try {
      const r = await cli('pair', 'epsilon', '--wait-timeout', '1s');
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toMatch(/^timeout: epsilon was not paired within 1s/m);
    } finally {
      await wa.removeAccount('epsilon');
    }
  });

  it('pair --phone prints the pairing code to type on the phone', async () => {
    await wa.addAccount('gamma', { connect: false });
    const r = await cli('pair', 'gamma', '--phone', '+4915200000077');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^pairing code for gamma: [A-Z0-9-]{8,9}$/m);
    await wa.removeAccount('gamma');
  });

  it('logout unlinks the device (and a logged-out account refuses sends)', async () => {
    await wa.addAccount('delta', { connect: false });
    // delta was never paired: logout still ends in loggedOut.
    const r = await cli('logout', 'delta');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('delta: loggedOut');
    const send = await cli('send', 'delta', TO, 'hi');
    expect(send.code).toBe(1);
    expect(send.stderr).toMatch(/^logged_out: /m);
    await wa.removeAccount('delta');
  });

  it('bad usage exits 2: unknown command, missing argument, bad option value', async () => {
    const unknown = await cli('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    const missing = await cli('send', 'alpha', TO);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/give a text, or a file with --image/);
    const since = await cli('events', '--since', 'yesterday-ish');
    expect(since.code).toBe(2);
    expect(since.stderr).toMatch(/--since/);
    const deadline = await cli('send', 'alpha', TO, 'hi', '--deadline', 'tomorrow');
    expect(deadline.code, deadline.stderr).toBe(2);
    expect(deadline.stderr).toMatch(/^error: --deadline: got "tomorrow"; /m);
  });

  it('a bad config file exits 2 with the key, the value and what is allowed', async () => {
    const file = join(w.dataDir, 'bad.yaml');
    await writeFile(file, 'nats:\n  url: http://example.org\naccounts:\n  - id: Bad Id\n');
    for (const args of [
      ['status', '--config', file],
      ['start', '--config', file],
    ]) {
      const r = await runCli(args, { NATS_URL: undefined });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/nats\.url: got "http:\/\/example\.org"; a nats:\/\/host:port URL/);
      expect(r.stderr).toMatch(/accounts\.0\.id: got "Bad Id"/);
    }
  });

  it('start refuses the reserved account id "accounts" from WA_CONND_ACCOUNTS: exits 2 and says why', async () => {
    const r = await runCli(
      ['start'],
      {
        NATS_URL: w.nats.url,
        WA_CONND_ACCOUNTS: 'sales,accounts',
        WA_CONND_HTTP_PORT: '0',
        WA_CONND_DATA_DIR: w.dataDir,
      },
      15_000,
    );
    expect(r.code, r.stderr + r.stdout).toBe(2);
    expect(r.stderr).toMatch(/accounts\.1\.id: got "accounts"; .*reserved.*wa\.cmd\.accounts\./);
  });

  it('exits 3 when no NATS answers, and 4 when NATS answers but no gateway does', async () => {
    const down = await runCli(['accounts', 'list'], { NATS_URL: 'nats://127.0.0.1:1' });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot reach NATS at nats:\/\/127\.0\.0\.1:1/);
    const elsewhere = await runCli(['status', 'alpha', '--nats', w.nats.url.replace(/:\d+$/, ':1')]);
    expect(elsewhere.code).toBe(3);
    const empty = await startNatsServer({ jetstream: false });
    try {
      const none = await runCli(['status', 'alpha'], { NATS_URL: empty.url });
      expect(none.code).toBe(4);
      expect(none.stderr).toMatch(/^unavailable: no wa-connd gateway answers on wa\.cmd\.alpha\.status/m);
    } finally {
      await empty.stop();
    }
  });
});
