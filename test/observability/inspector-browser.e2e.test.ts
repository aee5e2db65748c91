// The self-hosted inspector in Debian's headless Chromium (playwright-core, no
// downloaded browser): the page draws the machine, highlights the current state, and
// when the simulator forces a 408 the highlight goes open → reconnecting → connecting →
// open while the transition appears in the event log with its reason and code,
// highlighted; keepalive cycles collapse into one row with a count; no arrow label
// overlaps another or a state. The screenshot it takes is docs/img/inspector.png.
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_STATE_NAMES, ONLINE_STATES } from '../../machines/index.js';
import { startScenario, type Scenario } from '../support/gateway-scenario.js';
import { DEADLINE_MS } from '../support/waiters.js';

const CHROMIUM = process.env['CHROMIUM_BIN'] ?? '/usr/bin/chromium';
const DOC_SCREENSHOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'img', 'inspector.png');
// The committed screenshot is rewritten only on request (or when missing), so a test run
// leaves the checkout clean: UPDATE_SCREENSHOT=1 npx vitest run test/observability/inspector-browser.e2e.test.ts
const SCREENSHOT =
  process.env['UPDATE_SCREENSHOT'] === '1' || !existsSync(DOC_SCREENSHOT)
    ? DOC_SCREENSHOT
    : join(tmpdir(), 'wa-connd-inspector.png');

let s: Scenario;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (see .ci/run)`);
  s = await startScenario({ token: 'inspector-test-token-0123' });
  await s.entered('open');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
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
    for (const state of ACCOUNT_STATE_NAMES) {
      expect(await page.locator(`.graph .state[data-state="${state}"]`).count(), state).toBe(1);
    }
    expect(await page.locator('.graph .edge').count()).toBeGreaterThan(20);
    await page.waitForFunction(
      `${JSON.stringify(ONLINE_STATES)}.includes(document.querySelector('.graph').dataset.current)`,
      undefined,
      { timeout: DEADLINE_MS },
    );

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

    await page
      .waitForFunction(
        `(() => {
        const seen = window.seen;
        const i = seen.indexOf('reconnecting');
        return i > 0 && ${JSON.stringify(ONLINE_STATES)}.includes(seen[i - 1]) && seen.slice(i + 1).includes('connecting') && seen.slice(seen.indexOf('connecting', i)).includes('open');
      })()`,
        undefined,
        { timeout: DEADLINE_MS },
      )
      .catch(async (err: unknown) => {
        throw new Error(
          `highlighted states seen: ${JSON.stringify(await page.evaluate('window.seen'))}; log: ${await page.locator('#log tbody').innerText()}`,
          { cause: err },
        );
      });
    const seen = (await page.evaluate('window.seen')) as string[];
    const from = seen.indexOf('reconnecting');
    expect(seen.slice(from, from + 3)).toEqual(['reconnecting', 'connecting', 'open']);

    // The log shows the drop with its reason and status code, highlighted.
    const row = page.locator('#log tbody tr.transition', { hasText: '→ reconnecting' }).first();
    await row.waitFor({ timeout: DEADLINE_MS });
    expect(await row.locator('td.code').textContent()).toBe('408');
    expect((await row.locator('td.reason').textContent())?.length).toBeGreaterThan(0);
    expect(await row.getAttribute('class')).toMatch(/\bdrop\b/);
    const background = async (sel: string) =>
      (await page.evaluate(
        `getComputedStyle(document.querySelector(${JSON.stringify(sel)})).backgroundColor`,
      )) as string;
    expect(await background('#log tbody tr.drop td.what')).toBe('rgb(253, 236, 234)');
    expect(await background('#log tbody tr.transition:not(.drop) td.what')).toBe('rgba(0, 0, 0, 0)');

    // Keepalive cycles (FAST_TIMINGS: one every ~300 ms) collapse: runs of them are one row
    // each with a count, and none of their transitions or keepalive events has a row of its own.
    await page.waitForFunction(
      `[...document.querySelectorAll('#log tbody tr.liveness')].some((r) => Number(r.dataset.probes) >= 3)`,
      undefined,
      { timeout: DEADLINE_MS },
    );
    const log = (await page.evaluate(
      `[...document.querySelectorAll('#log tbody tr')].map((r) => ({ cls: r.className, what: r.querySelector('td.what').textContent, probes: r.dataset.probes }))`,
    )) as { cls: string; what: string; probes?: string }[];
    const cycle = /^(open → idle|idle → pinging|pinging → open|idle → open) |^keepalive ping ok/;
    expect(
      log.filter((r) => cycle.test(r.what)),
      JSON.stringify(log),
    ).toEqual([]);
    for (let i = 1; i < log.length; i++)
      expect(
        log[i - 1]!.cls.includes('liveness') && log[i]!.cls.includes('liveness'),
        'two keepalive rows in a row',
      ).toBe(false);
    const shown = (await page.evaluate(`[...document.querySelectorAll('#log tbody tr')].length`)) as number;
    const events = (await page.evaluate(
      `[...document.querySelectorAll('#log tbody tr')].reduce((n, r) => n + Number(r.dataset.events ?? 1), 0)`,
    )) as number;
    expect(shown).toBeLessThan(events / 2);

    // No arrow label overlaps another label or a state box (as laid out by the browser's font).
    const collisions = (await page.evaluate(`(() => {
      const box = (el, name) => { const b = el.getBBox(); return { name, x: b.x, y: b.y, w: b.width, h: b.height }; };
      const labels = [...document.querySelectorAll('.graph .edge text')].filter((t) => t.textContent.trim()).map((t) => box(t, t.parentNode.dataset.from + '→' + t.parentNode.dataset.to + ' "' + t.textContent + '"'));
      const states = [...document.querySelectorAll('.graph .state rect')].map((r) => box(r, 'state ' + r.parentNode.dataset.state));
      const hit = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
      const out = [];
      labels.forEach((a, i) => {
        for (const b of labels.slice(i + 1)) if (hit(a, b)) out.push(a.name + ' × ' + b.name);
        for (const b of states) if (hit(a, b)) out.push(a.name + ' × ' + b.name);
      });
      return { count: labels.length, out };
    })()`)) as { count: number; out: string[] };
    expect(collisions.count).toBeGreaterThan(15);
    expect(collisions.out).toEqual([]);
    expect(await page.locator('#outbox').textContent()).toBe('0');
    // The arrow of the last transition is marked.
    expect(await page.locator('.graph .edge.taken').count()).toBe(1);

    // A keepalive round-trip shows (FAST_TIMINGS probe after 300 ms idle).
    await page.waitForFunction(`/\\d+ ms/.test(document.querySelector('#rtt')?.textContent ?? '')`, undefined, {
      timeout: DEADLINE_MS,
    });
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect((page as Page & { foreign?: string[] }).foreign).toEqual([]);
  });
});
