// Child process of the runtime benchmark's memory part: the real Gateway alone in a fresh
// process (run with --expose-gc), filled with provisioned accounts of a simulator running in
// yet another process, reporting process.memoryUsage() after a forced GC with 0 accounts and
// at each step once every account is open and the process has settled.
// Usage: node --expose-gc --import tsx bench/runtime-memory.ts <ws> <http> <rootPublicKey> <steps,…>
// Prints one JSON line per step on stdout.
import { isOnline } from '../machines/index.js';
import { muteConsole, startTimedGateway } from './runtime-gateway.js';
import { provision, type Provisioned } from './sim-process.js';

/** Accounts provisioned and added at once: enough to overlap logins, few enough not to time out. */
const BATCH = 25;
/** After the last open of a step: let handshake garbage and post-login queries settle. */
const SETTLE_MS = 2_000;
const OPEN_DEADLINE_MS = 60_000;

const [ws, http, rootPublicKey, stepsArg] = process.argv.slice(2);
if (!ws || !http || !rootPublicKey || !stepsArg)
  throw new Error('usage: runtime-memory.ts <ws> <http> <rootPublicKey> <steps>');
const steps = stepsArg.split(',').map(Number);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

muteConsole();
const { gateway, facts, add, close } = await startTimedGateway({ ws, rootPublicKey }, {});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
async function measure(): Promise<NodeJS.MemoryUsage> {
  // Two passes: the first frees objects whose finalizers release more.
  gc!();
  await sleep(50);
  gc!();
  return process.memoryUsage();
}
const emit = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

emit({ accounts: 0, memory: await measure() });

let added = 0;
for (const target of steps) {
  while (added < target) {
    const n = Math.min(BATCH, target - added);
    const batch: Provisioned[] = [];
    for (let i = 0; i < n; i++) batch.push(await provision(http));
    await Promise.all(batch.map((p, i) => add(`mem-${String(added + i).padStart(4, '0')}`, p)));
    added += n;
  }
  const started = performance.now();
  await facts.until(
    `${target} accounts online`,
    () => (gateway.list().filter((a) => isOnline(a.state)).length >= target ? true : undefined),
    OPEN_DEADLINE_MS,
  );
  const allOpenMs = performance.now() - started;
  await sleep(SETTLE_MS);
  const online = gateway.list().filter((a) => isOnline(a.state)).length;
  emit({ accounts: target, online, allOpenMs, memory: await measure() });
}
await close();
process.exit(0);
