// The self-hosted inspector in Debian's headless Chromium (playwright-core, no
// downloaded browser): the page draws the machine, highlights the current state, and
// when the simulator forces a 408 the highlight goes open → reconnecting → connecting →
// open while the transition appears in the event log with its reason and code. The
// screenshot it takes is docs/img/inspector.png.
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEADLINE_MS, startScenario, type Scenario } from '../http/support.js';

const CHROMIUM = process.env['CHROMIUM_BIN'] ?? '/usr/bin/chromium';
const DOC_SCREENSHOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'img', 'inspector.png');
// The committed screenshot is rewritten only on request (or when missing), so a test run
// leaves the checkout clean: UPDATE_SCREENSHOT=1 npx vitest run test/observability/inspector.browser.test.ts
const SCREENSHOT = process.env['UPDATE_SCREENSHOT'] === '1' || !existsSync(DOC_SCREENSHOT) ? DOC_SCREENSHOT : join(tmpdir(), 'wa-connd-inspector.png');

let s: Scenario;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (see .ci/run)`);
  s = await startScenario({ token: 'inspector-test-token-0123' });
  await s.entered('open');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  // bypassCSP: the page forbids eval, and the test's string predicates are evaluated.
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, bypassCSP: true });
  // Offline by construction: any request that is not to the gateway fails the test.
  const foreign: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(s.url) && !r.url().startsWith('data:')) foreign.push(r.url());
  });
  (page as Page & { foreign?: string[] }).foreign = foreign;
});

afterAll(async () => {
  await browser?.close();
  await s?.close();
});

describe('the inspector page', () => {
  it('follows a forced 408 through reconnecting and connecting back to open, and logs it', async () => {
    // The token in the URL once; the page and its event stream then use the cookie.
    await page.goto(`${s.url}/inspect?token=inspector-test-token-0123`);
    expect(new URL(page.url()).search).toBe('');
    await page.waitForSelector(`nav li[data-account="${s.account}"]`, { timeout: DEADLINE_MS });
    // Every state of the machine is drawn.
    for (const state of ['stopped', 'connecting', 'pairing', 'open', 'idle', 'pinging', 'draining', 'reconnecting', 'loggedOut']) {
      expect(await page.locator(`.graph .state[data-state="${state}"]`).count(), state).toBe(1);
    }
    expect(await page.locator('.graph .edge').count()).toBeGreaterThan(20);
    await page.waitForFunction(`['open', 'idle', 'pinging'].includes(document.querySelector('.graph').dataset.current)`, undefined, { timeout: DEADLINE_MS });

    // Record every highlighted state from here on; a poll could miss a 50 ms reconnecting.
    // (Browser-side code is passed as strings: the project compiles without the DOM lib.)
    await page.evaluate(`{
      const graph = document.querySelector('.graph');
      const seen = [graph.dataset.current ?? ''];
      window.seen = seen;
      new MutationObserver(() => {
        const state = graph.querySelector('.state.current')?.dataset.state ?? '';
        if (seen.at(-1) !== state) seen.push(state);
      }).observe(graph, { subtree: true, attributes: true, attributeFilter: ['class'] });
    }`);

    const opens = s.transitions().filter((t) => t.to === 'open').length;
    expect(s.sim.inject({ type: 'stream-error', code: 408 }, s.provisioned.account.phone)).toHaveLength(1);
    await s.entered('open', opens + 1);

    await page.waitForFunction(
      `(() => {
        const seen = window.seen;
        const i = seen.indexOf('reconnecting');
        return i > 0 && ['open', 'idle', 'pinging'].includes(seen[i - 1]) && seen.slice(i + 1).includes('connecting') && seen.slice(seen.indexOf('connecting', i)).includes('open');
      })()`,
      undefined,
      { timeout: DEADLINE_MS },
    ).catch(async (err: unknown) => {
      throw new Error(`highlighted states seen: ${JSON.stringify(await page.evaluate('window.seen'))}; log: ${await page.locator('#log tbody').innerText()}`, { cause: err });
    });
    const seen = (await page.evaluate('window.seen')) as string[];
    const from = seen.indexOf('reconnecting');
    expect(seen.slice(from, from + 3)).toEqual(['reconnecting', 'connecting', 'open']);

    // The log shows the drop with its reason and status code.
    const row = page.locator('#log tbody tr.transition', { hasText: '→ reconnecting' }).first();
    await row.waitFor({ timeout: DEADLINE_MS });
    expect(await row.locator('td.code').textContent()).toBe('408');
    expect((await row.locator('td.reason').textContent())?.length).toBeGreaterThan(0);
    expect(await page.locator('#outbox').textContent()).toBe('0');
    // The arrow of the last transition is marked.
    expect(await page.locator('.graph .edge.taken').count()).toBe(1);

    // A keepalive round-trip shows (FAST_TIMINGS probe after 300 ms idle).
    await page.waitForFunction(`/\\d+ ms/.test(document.querySelector('#rtt')?.textContent ?? '')`, undefined, { timeout: DEADLINE_MS });
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect((page as Page & { foreign?: string[] }).foreign).toEqual([]);
  });
});
