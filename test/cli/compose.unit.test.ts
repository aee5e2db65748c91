/**
 * docker-compose.yml and the Dockerfile as docs/quickstart.md documents them: the
 * services, what each publishes, and the healthchecks. (`docker-compose config -q` in
 * .ci/run checks the file is valid Compose; this checks it is the documented one.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/gateway-child.js';

type Service = {
  image?: string;
  build?: unknown;
  command?: string[];
  ports?: string[];
  profiles?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
};
const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const s = compose.services;

describe('docker-compose.yml', () => {
  it('has nats and gateway by default, simulator and demo in the demo profile, and the cluster profile', () => {
    expect(Object.keys(s).sort()).toEqual([
      'demo',
      'gateway',
      'gateway-1',
      'gateway-2',
      'gateway-3',
      'nats',
      'nats-1',
      'nats-2',
      'nats-3',
      'simulator',
    ]);
    expect(s.nats!.profiles).toBeUndefined();
    expect(s.gateway!.profiles).toBeUndefined();
    expect(s.simulator!.profiles).toEqual(['demo']);
    expect(s.demo!.profiles).toEqual(['demo']);
  });

  it('nats: JetStream on a persistent volume, client and monitoring ports on loopback, healthy only with JetStream', () => {
    expect(s.nats!.command).toEqual(expect.arrayContaining(['-js', '-sd', '/data']));
    expect(s.nats!.volumes).toContain('nats-data:/data');
    expect(s.nats!.ports).toEqual(['127.0.0.1:4222:4222', '127.0.0.1:8222:8222']);
    expect(s.nats!.healthcheck!.test.join(' ')).toContain('/healthz?js-enabled-only=true');
    expect(compose.volumes).toHaveProperty('nats-data');
  });

  it('gateway: built from the Dockerfile, after a healthy nats, /healthz on 8080 published on loopback', () => {
    expect(s.gateway!.build).toBe('.');
    expect(s.gateway!.command).toEqual(['start']);
    expect(s.gateway!.environment).toMatchObject({ NATS_URL: 'nats://nats:4222', WA_CONND_HTTP_PORT: '8080' });
    expect(s.gateway!.ports).toEqual(['127.0.0.1:8080:8080']);
    expect(s.gateway!.depends_on).toEqual({ nats: { condition: 'service_healthy' } });
    expect(s.gateway!.healthcheck!.test.join(' ')).toContain('http://127.0.0.1:8080/healthz');
    expect(s.gateway!.volumes).toContain('gateway-data:/data');
  });

  it('demo profile: the simulator (healthy on its control API) and `wa-connd demo` against it with the same time scale', () => {
    const sim = s.simulator!.command!;
    expect(sim.slice(0, 1)).toEqual(['simulator']);
    const arg = (cmd: string[], name: string) => cmd[cmd.indexOf(name) + 1];
    expect(s.simulator!.healthcheck!.test.join(' ')).toContain(`http://127.0.0.1:${arg(sim, '--http-port')}/healthz`);
    const demo = s.demo!.command!;
    expect(demo[0]).toBe('demo');
    expect(arg(demo, '--simulator-http')).toBe(`http://simulator:${arg(sim, '--http-port')}`);
    expect(arg(demo, '--simulator-ws')).toBe(`ws://simulator:${arg(sim, '--ws-port')}/ws/chat`);
    expect(arg(demo, '--simulator-time-scale')).toBe(arg(sim, '--time-scale'));
    // The scaled period the demo assumes is the field report's 16 min times the simulator's scale.
    expect(
      Math.abs(16 * 60 * Number(arg(sim, '--time-scale')) - Number(arg(demo, '--period')!.replace(/s$/, ''))),
    ).toBeLessThan(0.01);
    expect(s.demo!.depends_on).toEqual({
      nats: { condition: 'service_healthy' },
      simulator: { condition: 'service_healthy' },
    });
  });
});

describe('the cluster profile (docs/scaling.md)', () => {
  const nodes = ['nats-1', 'nats-2', 'nats-3'];
  it('runs three JetStream nodes routed to each other, each on its own volume', () => {
    for (const n of nodes) {
      const cmd = s[n]!.command!;
      expect(s[n]!.profiles).toEqual(['cluster']);
      expect(cmd).toEqual(expect.arrayContaining(['-js', '--cluster_name', 'wa', '--server_name', n]));
      expect(cmd[cmd.indexOf('--routes') + 1]).toBe(nodes.map((m) => `nats://${m}:6222`).join(','));
      expect(s[n]!.volumes).toContain(`${n}-data:/data`);
    }
  });

  it('runs three gateways with leases, R3 and every node in their NATS_URL', () => {
    for (const g of ['gateway-1', 'gateway-2', 'gateway-3']) {
      expect(s[g]!.profiles).toEqual(['cluster']);
      expect(s[g]!.environment).toMatchObject({
        NATS_URL: nodes.map((n) => `nats://${n}:4222`).join(','),
        WA_CONND_STREAM_REPLICAS: '3',
        WA_CONND_LEASE: 'true',
      });
      expect(Object.keys(s[g]!.depends_on!).sort()).toEqual(nodes);
    }
  });
});

describe('Dockerfile', () => {
  it('is multi-stage on node:24-slim, runs as a non-root user, and checks /healthz', () => {
    expect(dockerfile.match(/^FROM node:24-slim AS \w+$/gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^COPY --from=deps /m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/healthz/m);
    expect(dockerfile).toMatch(/^EXPOSE 8080$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/wa-connd\.mjs"\]$/m);
  });

  it('runs compiled JavaScript: the runtime stage gets dist/ and no sources, and installs no dev dependencies', () => {
    const runtime = dockerfile.slice(dockerfile.search(/^FROM \S+ AS runtime$/m));
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(runtime).not.toMatch(/^COPY (src|machines|tsconfig)/m);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev /m);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
  });
});
