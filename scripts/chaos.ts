// `npm run chaos [-- --seed N] [-- --small]`: the chaos suite (docs/testing.md, "Chaos").
// Prints the seed first and ONE summary line last; exits 1 when anything was lost,
// duplicated, reordered or missing (details on stderr), 0 otherwise.
import { parseArgs } from 'node:util';
import { FULL_SCALE, SMALL_SCALE } from '../test/support/chaos/plan.js';
import { runChaos } from '../test/support/chaos/run.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    small: { type: 'boolean', default: false },
    sends: { type: 'string' },
    duration: { type: 'string' },
  },
});
const seedText = values.seed ?? process.env['CHAOS_SEED'] ?? String(Date.now() % 1_000_000);
const seed = Number(seedText);
if (!Number.isInteger(seed) || seed < 0) {
  process.stderr.write(`--seed must be a non-negative integer, got ${seedText}\n`);
  process.exit(2);
}
const scale = { ...(values.small ? SMALL_SCALE : FULL_SCALE) };
// Scaled-down runs while developing: fewer sends over a shorter time, the same schedule shape.
if (values.sends) scale.sends = Number(values.sends);
if (values.duration) scale.durationMs = Number(values.duration) * 1_000;
const rerun = `CHAOS_SEED=${seed} npm run chaos${values.small ? ' -- --small' : ''}`;
process.stdout.write(`chaos: seed ${seed} (re-run: ${rerun})\n`);
const started = Date.now();
const result = await runChaos({ seed, scale, log: (l) => process.stderr.write(`${l}\n`) });
for (const [k, v] of Object.entries(result.findings)) process.stderr.write(`  ${k}: ${v.join(' | ')}\n`);
process.stderr.write(
  `  ${Object.entries(result.extra)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')} wall=${Math.round((Date.now() - started) / 1000)}s\n`,
);
process.stdout.write(`${result.line}\n`);
process.exit(result.ok ? 0 : 1);
