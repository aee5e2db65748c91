// The soak's memory sampling (test/support/inspector.ts): through a child's inspector it
// forces a full GC and reads the child's own memory and active resources. The soak's leak
// criterion rests on this: heap "after GC" must be live memory, not what a GC would free.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { attachInspector, type Inspector } from '../support/inspector.js';

/** Holds 200,000 small objects while `keep` is set, then lets them go; keeps a timer and the process alive. */
const CHILD = `
globalThis.keep = Array.from({ length: 200000 }, (_, i) => ({ i, s: 'x' + i }));
setInterval(() => {}, 60000);
`;

describe('soak memory sampling through the inspector', () => {
  let stop: (() => void) | undefined;
  let insp: Inspector | undefined;
  afterEach(() => {
    insp?.close();
    stop?.();
  });

  it('forces a GC in the child: heap after GC drops once the garbage is unreachable', async () => {
    const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', '-e', CHILD], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    stop = () => child.kill('SIGKILL');
    insp = await attachInspector(() => stderr);
    const heap = async () => {
      await insp?.gc();
      return (await insp!.evaluate<{ heapUsed: number }>('process.memoryUsage()')).heapUsed;
    };
    await insp.evaluate('globalThis.keep.length'); // the child has run its script
    const held = await heap();
    await insp.evaluate('void (globalThis.keep = undefined)');
    const freed = await heap();
    // 200,000 objects with their strings are several MiB; after a forced GC they are gone.
    expect(held - freed).toBeGreaterThan(4 * 2 ** 20);
    const resources = await insp.evaluate<string[]>('process.getActiveResourcesInfo()');
    expect(resources).toContain('Timeout');
  });
});
