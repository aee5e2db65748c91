// Runs every bench/*.bench.ts (or those named on the command line) and writes their
// sections to docs/benchmarks.md together with the command and the machine they ran on.
// Each bench file exports its section `title` and default-exports `async () => BenchSection`.
// Sections already in the file that this run did not produce are kept (merged by title, in
// their old place, marked as kept), so running one bench does not erase the others' numbers.
// A bench that throws replaces its section with a failure notice (what failed, when, the
// command), so a failed run never leaves the previous numbers looking current; the run then
// exits 1.
import { readFile, readdir, writeFile } from 'node:fs/promises';
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

const command = `npm run bench${only.length ? ` -- ${only.join(' ')}` : ''}`;
const today = new Date().toISOString().slice(0, 10);
const sections: BenchSection[] = [];
let failed = 0;
for (const file of files) {
  process.stderr.write(`bench: ${file}\n`);
  const mod = (await import(pathToFileURL(path.join(here, file)).href)) as {
    title: string;
    default: () => Promise<BenchSection>;
  };
  try {
    sections.push(await mod.default());
  } catch (err) {
    failed++;
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`bench: ${file} FAILED: ${message}\n`);
    sections.push({
      title: mod.title,
      markdown:
        `**This benchmark failed in the \`${command}\` run of ${today}**: ${message.replace(/\s+/g, ' ')}\n\n` +
        "No numbers are shown: the previous run's would look current. Re-run it to measure again.",
    });
  }
}

const header = [
  '# Benchmarks',
  '',
  `Produced by \`${command}\` on ${today}: Node ${process.version}, ` +
    `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB. ` +
    'The machine is shared and noisy: compare ratios measured side by side in one run, not absolute numbers across runs.',
  '',
];
const target = path.join(here, '..', 'docs', 'benchmarks.md');
const fresh = new Map(sections.map((s) => [s.title, s.markdown.trim()]));
const previous = await readFile(target, 'utf8').catch(() => '');
// "Produced by `npm run bench -- events` on 2026-11-25": where the kept sections came from.
const origin = /^Produced by (`[^`]+`) on (\d{4}-\d{2}-\d{2})/m.exec(previous);
const merged: { title: string; body: string }[] = [];
for (const old of parseSections(previous)) {
  const body = fresh.get(old.title);
  fresh.delete(old.title);
  if (body !== undefined) merged.push({ title: old.title, body });
  else if (old.body.startsWith('_Kept from') || !origin) merged.push(old);
  else merged.push({ title: old.title, body: `_Kept from the ${origin[1]} run of ${origin[2]}._\n\n${old.body}` });
}
for (const [title, body] of fresh) merged.push({ title, body });
const out = header.concat(merged.flatMap((s) => [`## ${s.title}`, '', s.body, ''])).join('\n');
await writeFile(target, out);
process.stderr.write(
  `bench: wrote docs/benchmarks.md (${sections.length} fresh, ${merged.length - sections.length} kept, ${failed} failed)\n`,
);
if (failed > 0) process.exitCode = 1;

/** `## Title` sections of a benchmarks.md, bodies trimmed; the `# Benchmarks` header is dropped. */
function parseSections(text: string): { title: string; body: string }[] {
  const out: { title: string; body: string[] }[] = [];
  for (const line of text.split('\n')) {
    const m = /^## (.+)$/.exec(line);
    if (m) out.push({ title: m[1]!.trim(), body: [] });
    else out.at(-1)?.body.push(line);
  }
  return out.map((s) => ({ title: s.title, body: s.body.join('\n').trim() }));
}
