// The simulator's media host: https with its own certificate (trusted only where a client
// is told to), uploads checked against the media_conn auth and the blob's sha256 token,
// downloads by direct path (with ranges).
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request, type Agent } from 'node:https';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { controlApi, mediaAgent, openProvisioned, simulatorPerFile } from '../support/simulator-client.js';
import { tempDir } from '../support/temp-dir.js';

const fx = simulatorPerFile();
const run = promisify(execFile);

interface HttpsReply {
  status: number;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

function https(
  url: string,
  options: { method?: string; body?: Buffer; agent?: Agent; headers?: Record<string, string> } = {},
): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', agent: options.agent ?? mediaAgent(fx.sim), headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const token = (b: Buffer): string => createHash('sha256').update(b).digest('base64url');

/** The upload auth, as Baileys gets it: the `media_conn` IQ, through a real client. */
async function mediaAuth(): Promise<string> {
  const { client } = await openProvisioned(fx.sim);
  fx.clients.push(client);
  const conn = await client.sock.refreshMediaConn(true);
  expect(conn.hosts.map((h) => h.hostname)).toEqual([new URL(fx.sim.mediaUrl).host]);
  expect(client.sock.getMediaHost()).toBe(new URL(fx.sim.mediaUrl).host);
  return encodeURIComponent(conn.auth);
}

describe('the media host', () => {
  it('is announced by GET /media with the certificate to trust', async () => {
    const media = await controlApi(fx.sim).media();
    expect(media.url).toBe(fx.sim.mediaUrl);
    expect(media.caPem).toBe(fx.sim.caPem);
    expect(media.caPem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
  });

  it('is refused by a client that was not told to trust it', async () => {
    const { Agent: HttpsAgent } = await import('node:https');
    await expect(https(`${fx.sim.mediaUrl}/nothing`, { agent: new HttpsAgent() })).rejects.toMatchObject({
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
  });

  it('refuses uploads with a bad auth or a body that does not match its token, stores good ones', async () => {
    const blob = randomBytes(1000);
    const auth = await mediaAuth();
    const bad = await https(`${fx.sim.mediaUrl}/mms/image/${token(blob)}?auth=wrong&token=${token(blob)}`, {
      method: 'POST',
      body: blob,
    });
    expect(bad.status).toBe(401);
    const mismatch = await https(`${fx.sim.mediaUrl}/mms/image/${token(randomBytes(8))}?auth=${auth}`, {
      method: 'POST',
      body: blob,
    });
    expect(mismatch.status).toBe(400);
    const ok = await https(`${fx.sim.mediaUrl}/mms/document/${token(blob)}?auth=${auth}&token=${token(blob)}`, {
      method: 'POST',
      body: blob,
    });
    expect(ok.status).toBe(200);
    const reply = JSON.parse(ok.body.toString()) as { url: string; direct_path: string };
    expect(reply.url.startsWith(`${fx.sim.mediaUrl}${reply.direct_path}`)).toBe(true);
    const whole = await https(reply.url);
    expect(whole.body.equals(blob)).toBe(true);
    const part = await https(`${fx.sim.mediaUrl}${reply.direct_path}`, { headers: { range: 'bytes=16-31' } });
    expect(part.status).toBe(206);
    expect(part.body.equals(blob.subarray(16, 32))).toBe(true);
    expect((await https(`${fx.sim.mediaUrl}/v/t62.7118-24/none_n.enc`)).status).toBe(404);
  });

  it('is trusted by a child process started with NODE_EXTRA_CA_CERTS, and only then', async () => {
    const dir = await tempDir('sim-ca-');
    const caFile = join(dir.path, 'simulator-ca.pem');
    writeFileSync(caFile, fx.sim.caPem);
    const script = `fetch(${JSON.stringify(`${fx.sim.mediaUrl}/v/t62.7118-24/none_n.enc`)}).then((r) => console.log(r.status), (e) => console.log(e.cause?.code ?? e.message))`;
    const trusted = await run(process.execPath, ['-e', script], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile },
    });
    expect(trusted.stdout.trim()).toBe('404');
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const untrusted = await run(process.execPath, ['-e', script], { env });
    expect(untrusted.stdout.trim()).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    await dir.remove();
  });
});
