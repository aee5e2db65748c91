// A live /metrics (a whole gateway with an account that has been open, probed, sent and
// dropped) passes Prometheus' own linter, `promtool check metrics` (Debian's
// `prometheus` package; .ci/run installs it). Skipped only outside CI without promtool.
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmdSubject } from '../../src/contract/index.js';
import { connect } from '@nats-io/transport-node';
import { get, startScenario, type Scenario } from '../support/gateway-scenario.js';
import { sum, parsePrometheusText } from '../support/prom-text.js';
import { until } from '../support/waiters.js';

const PROMTOOL = process.env['PROMTOOL_BIN'] ?? 'promtool';
const hasPromtool = spawnSync(PROMTOOL, ['--version']).status === 0;
const inCi = Boolean(process.env['CI']);

function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (b: Buffer) => (output += b.toString()));
    p.stderr.on('data', (b: Buffer) => (output += b.toString()));
    p.once('error', reject);
    p.once('close', (code) => resolve({ code, output }));
    p.stdin.end(text);
  });
}

describe.skipIf(!hasPromtool && !inCi)('/metrics under promtool check metrics', () => {
  let s: Scenario;
  beforeAll(async () => {
    if (!hasPromtool) throw new Error(`${PROMTOOL} not found: apt-get install -y prometheus (see .ci/run)`);
    s = await startScenario();
    await s.entered('open');
  });
  afterAll(async () => s?.close());

  it('passes with every family populated (transitions, a 408, a send, keepalives, process metrics)', async () => {
    const nc = await connect({ servers: s.nats.url });
    try {
      const reply = (
        await nc.request(cmdSubject(s.account, 'send'), JSON.stringify({ to: '15559990001', text: 'promtool' }), {
          timeout: 5_000,
        })
      ).json<{ ok: boolean }>();
      expect(reply.ok).toBe(true);
    } finally {
      await nc.close();
    }
    const opens = s.transitions().filter((t) => t.to === 'open').length;
    s.sim.inject({ type: 'stream-error', code: 408 }, s.provisioned.account.phone);
    await s.entered('open', opens + 1);
    const text = await until('a 408, an acked send and a keepalive in /metrics', async () => {
      const r = await get(`${s.url}/metrics`);
      const m = parsePrometheusText(r.text);
      const ready =
        sum(m, 'wa_disconnects_total', { code: '408' }) >= 1 &&
        sum(m, 'wa_sends_total', { result: 'acked' }) >= 1 &&
        sum(m, 'wa_keepalive_probes_total', { outcome: 'ok' }) >= 1;
      return ready ? r.text : undefined;
    });
    expect(text).toMatch(/^nodejs_/m);
    const r = await promtoolCheck(text);
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
  });
});
