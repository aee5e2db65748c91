// The HTTP server's bearer token (every endpoint but /healthz) and the pairing page
// (the current QR as an image while the account pairs) on a whole gateway.
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, startScenario, type Scenario } from '../support/gateway-scenario.js';
import { until } from '../support/waiters.js';

const TOKEN = 'a-token-of-at-least-16-chars';
let s: Scenario;

beforeAll(async () => {
  // Unpaired: the account connects, gets QR codes and waits in `pairing`.
  s = await startScenario({ token: TOKEN, unpaired: true });
  await s.entered('pairing');
});

afterAll(async () => {
  await s?.close();
});

describe('with a token', () => {
  const protectedPaths = ['/readyz', '/metrics', '/inspect', '/inspect/state', '/inspect/events', '/pair/acct'];

  it('answers /healthz without it', async () => {
    expect((await get(`${s.url}/healthz`)).status).toBe(200);
  });

  it('answers /favicon.ico without it (204: the pages carry their icon inline), so a browser logs no 404 or 401', async () => {
    const r = await get(`${s.url}/favicon.ico`);
    expect(r.status).toBe(204);
    expect(r.headers.get('cache-control')).toMatch(/max-age=\d+/);
    for (const page of ['/inspect', '/pair/acct'])
      expect((await get(`${s.url}${page}`, TOKEN)).text, page).toMatch(/<link rel="icon" href="data:image\/svg\+xml,/);
  });

  it('refuses every other endpoint without it or with a wrong one', async () => {
    for (const path of protectedPaths) {
      expect((await get(`${s.url}${path}`)).status, path).toBe(401);
      expect((await get(`${s.url}${path}`, 'not-the-token-at-all-xx')).status, path).toBe(401);
      expect((await get(`${s.url}${path}?token=wrong-token-wrong-token`)).status, path).toBe(401);
    }
  });

  it('serves every endpoint with Authorization: Bearer', async () => {
    for (const path of protectedPaths) {
      if (path === '/inspect/events') {
        const ctl = new AbortController();
        const res = await fetch(`${s.url}${path}`, {
          headers: { authorization: `Bearer ${TOKEN}` },
          signal: ctl.signal,
        });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/event-stream');
        ctl.abort();
        continue;
      }
      // /readyz is 200 too: pairing (waiting for a scan) is a known state.
      expect((await get(`${s.url}${path}`, TOKEN)).status, path).toBe(200);
    }
  });

  it('trades ?token= for a cookie once, for browsers', async () => {
    const res = await fetch(`${s.url}/inspect?token=${TOKEN}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/inspect');
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    expect(res.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await fetch(`${s.url}/metrics`, { headers: { cookie } })).status).toBe(200);
  });
});

describe('the pairing page', () => {
  it('shows the current QR as an image while pairing', async () => {
    const qr = await until('a qr fact', () => s.facts.filter((f) => f.type === 'qr').at(-1));
    const page = await until('the page showing the latest QR', async () => {
      const latest = s.facts.filter((f) => f.type === 'qr').at(-1)!;
      const expected = await QRCode.toDataURL(latest.type === 'qr' ? latest.qr : '', {
        margin: 2,
        scale: 6,
        errorCorrectionLevel: 'L',
      });
      const r = await get(`${s.url}/pair/${s.account}`, TOKEN);
      return r.text.includes(`src="${expected}"`) ? r : undefined;
    });
    expect(qr).toBeDefined();
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<img id="qr"/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
  });

  it('answers 404 for an account this gateway does not run', async () => {
    expect((await get(`${s.url}/pair/nobody`, TOKEN)).status).toBe(404);
  });
});
