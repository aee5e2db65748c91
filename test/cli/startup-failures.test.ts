/**
 * What `wa-connd start` does when the outside world is not as it needs it, each as a
 * child process against a real nats-server: a taken HTTP port ends the process with a
 * non-zero exit code and one clear line.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { tempDir } from '../e2e/support.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { runCli } from './support.js';

let nats: NatsServer;
let dir: { path: string; remove(): Promise<void> };
beforeAll(async () => {
  nats = await startNatsServer();
  dir = await tempDir('wa-connd-startup-');
});
afterAll(async () => {
  await nats?.stop();
  await dir?.remove();
});

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

describe('wa-connd start, when it cannot start', () => {
  it('a taken HTTP port: exits with the start-failed code and says which port and what to do', async () => {
    const busy = createServer();
    const port = await listen(busy);
    try {
      const r = await runCli(['start'], {
        NATS_URL: nats.url,
        WA_CONND_DATA_DIR: dir.path,
        WA_CONND_ACCOUNTS: 'alpha',
        WA_CONND_HTTP_PORT: String(port),
        WA_CONND_LOG_LEVEL: 'warn',
      });
      expect(r.code, r.stderr + r.stdout).toBe(EXIT.startFailed);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`could not start: the HTTP port 127\\.0\\.0\\.1:${port} is already in use \\(EADDRINUSE\\).*WA_CONND_HTTP_PORT`));
      expect(r.stdout + r.stderr).not.toMatch(/kept running/);
    } finally {
      busy.close();
    }
  });

  it('an unhandled rejection (a bug) is not swallowed: logged at fatal, named on stderr, exit 70', async () => {
    // Plants a rejected promise nobody handles, as soon as the gateway has installed its
    // handler (so the gateway's policy is what is tested, not Node's default).
    const plant = [
      'const on = process.on.bind(process);',
      "process.on = (event, listener) => { const r = on(event, listener); if (event === 'unhandledRejection') setImmediate(() => Promise.reject(new Error('planted bug'))); return r; };",
    ].join('');
    const r = await runCli(['start'], {
      NATS_URL: nats.url,
      WA_CONND_DATA_DIR: dir.path,
      WA_CONND_ACCOUNTS: 'alpha',
      WA_CONND_HTTP_PORT: '0',
      WA_CONND_WA_URL: 'ws://127.0.0.1:9/ws/chat',
      WA_CONND_LOG_LEVEL: 'warn',
      NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(plant)}`,
    });
    expect(r.code, r.stderr + r.stdout).toBe(EXIT.internalError);
    expect(r.stderr).toMatch(/^wa-connd: unhandled rejection \(a bug, please report it\): Error: planted bug/m);
    const fatal = r.stdout.split('\n').filter((l) => l.includes('"level":60'));
    expect(fatal.some((l) => l.includes('planted bug')), r.stdout).toBe(true);
  });
});
