import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
/** Starting tsx and importing Baileys takes a few seconds on a loaded 2-core machine. */
const START_DEADLINE_MS = 20_000;
const children: ChildProcessWithoutNullStreams[] = [];

afterAll(() => {
  for (const c of children) c.kill('SIGTERM');
});

interface Ready {
  ws: string;
  http: string;
  rootPublicKey: string;
  media: string;
  caPem: string;
  caFile?: string;
}

function start(
  args: string[],
): Promise<{ ready: Ready; stdoutLines: string[]; child: ChildProcessWithoutNullStreams }> {
  const child = spawn(tsx, ['src/simulator/cli.ts', ...args], { cwd: root });
  children.push(child);
  const stdoutLines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('simulator did not print its ready line')), START_DEADLINE_MS);
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdoutLines.push(line);
      if (stdoutLines.length === 1) {
        clearTimeout(timer);
        resolve({ ready: JSON.parse(line) as Ready, stdoutLines, child });
      }
    });
    child.on('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
}

describe('npm run simulator', () => {
  it('prints one JSON ready line, logs JSON to stderr, and derives the root from --seed', async () => {
    const caFile = path.join(tmpdir(), `sim-ca-${process.pid}.pem`);
    const [a, b] = await Promise.all([
      start(['--ws-port', '0', '--http-port', '0', '--seed', 'shared', '--time-scale', '0.002']),
      start(['--ws-port', '0', '--http-port', '0', '--seed', 'shared', '--ca-file', caFile]),
    ]);
    expect(a.ready.media).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(a.ready.caPem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    // Each process makes its own certificate; --ca-file writes it for NODE_EXTRA_CA_CERTS.
    expect(b.ready.caFile).toBe(caFile);
    expect(readFileSync(caFile, 'utf8')).toBe(b.ready.caPem);
    expect(b.ready.caPem).not.toBe(a.ready.caPem);
    rmSync(caFile, { force: true });
    expect(a.ready.ws).toMatch(/^ws:\/\/127\.0\.0\.1:\d+/);
    expect(a.ready.http).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(a.ready.rootPublicKey).toBe(b.ready.rootPublicKey);
    const res = await fetch(`${a.ready.http}/root-key`);
    expect(((await res.json()) as { rootPublicKey: string }).rootPublicKey).toBe(a.ready.rootPublicKey);
    const stderrLine = await new Promise<string>((resolve) => {
      createInterface({ input: a.child.stderr }).once('line', resolve);
    }).catch(() => '');
    // stderr may already have been read past the first line; any line must be pino JSON.
    if (stderrLine) expect(() => JSON.parse(stderrLine) as unknown).not.toThrow();
    expect(a.stdoutLines).toHaveLength(1);
  }, 30_000);
});
