// `npx tsx scripts/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [top]`: compares two
// V8 heap snapshots (the soak's `--heap-snapshots <dir>` writes them after a forced GC) by
// constructor: object count and self size per `type:name`, the largest growths first. A
// leak shows as a constructor whose count keeps rising with the hours run.
import { readFile } from 'node:fs/promises';

type Snapshot = {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
};
type Row = { count: number; size: number };

async function byConstructor(path: string): Promise<Map<string, Row>> {
  const s = JSON.parse(await readFile(path, 'utf8')) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const [typeAt, nameAt, sizeAt] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
  const types = s.snapshot.meta.node_types[0];
  const rows = new Map<string, Row>();
  for (let i = 0; i < s.nodes.length; i += f.length) {
    const type = types[s.nodes[i + typeAt] as number] ?? '?';
    // Strings and code are grouped by type only: their names are contents, not constructors.
    const name = ['object', 'closure', 'native', 'array', 'object shape'].includes(type)
      ? `${type}:${s.strings[s.nodes[i + nameAt] as number]}`
      : type;
    const r = rows.get(name) ?? { count: 0, size: 0 };
    r.count++;
    r.size += s.nodes[i + sizeAt] as number;
    rows.set(name, r);
  }
  return rows;
}

const [a, b, topArg] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: heap-diff.ts <before> <after> [top]');
const top = Number(topArg ?? 25);
const [before, after] = [await byConstructor(a), await byConstructor(b)];
const total = (m: Map<string, Row>) =>
  [...m.values()].reduce((t, r) => ({ count: t.count + r.count, size: t.size + r.size }), { count: 0, size: 0 });
const [ta, tb] = [total(before), total(after)];
const mib = (n: number) => (n / 2 ** 20).toFixed(2);
process.stdout.write(`total: ${ta.count} → ${tb.count} objects, ${mib(ta.size)} → ${mib(tb.size)} MiB\n`);
const diff = [...new Set([...before.keys(), ...after.keys()])].map((k) => {
  const x = before.get(k) ?? { count: 0, size: 0 };
  const y = after.get(k) ?? { count: 0, size: 0 };
  return { k, count: y.count - x.count, size: y.size - x.size, before: x, after: y };
});
for (const [title, key] of [
  ['by size growth', 'size'],
  ['by count growth', 'count'],
] as const) {
  process.stdout.write(`${title}:\n`);
  for (const d of diff.sort((p, q) => q[key] - p[key]).slice(0, top))
    process.stdout.write(
      `  ${d.k.padEnd(48)} count ${d.before.count} → ${d.after.count} (${d.count >= 0 ? '+' : ''}${d.count})  size ${mib(d.before.size)} → ${mib(d.after.size)} MiB\n`,
    );
}
