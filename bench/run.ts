// Runs every bench/*.bench.ts (or those named on the command line) and writes their
// sections to docs/benchmarks.md together with the command and the machine they ran on.
// Each bench file default-exports `async () => BenchSection`.
import { readdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

export interface BenchSection {
  title: string;
  /** Markdown body: what was measured, how, and the table of numbers. */
  markdown: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = (await readdir(here))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

const sections: BenchSection[] = [];
for (const file of files) {
  process.stderr.write(`bench: ${file}\n`);
  const mod = (await import(pathToFileURL(path.join(here, file)).href)) as {
    default: () => Promise<BenchSection>;
  };
  sections.push(await mod.default());
}

const command = `npm run bench${only.length ? ` -- ${only.join(' ')}` : ''}`;
const header = [
  '# Benchmarks',
  '',
  `Produced by \`${command}\` on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ` +
    `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB. ` +
    'The machine is shared and noisy: compare ratios measured side by side in one run, not absolute numbers across runs.',
  '',
];
const out = header.concat(sections.flatMap((s) => [`## ${s.title}`, '', s.markdown.trim(), ''])).join('\n');
await writeFile(path.join(here, '..', 'docs', 'benchmarks.md'), out);
process.stderr.write('bench: wrote docs/benchmarks.md\n');
