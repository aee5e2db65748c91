// A strict parser of the Prometheus text exposition format (0.0.4), enough to prove
// /metrics parses: every sample belongs to a family declared by `# TYPE` before it,
// names and labels are well-formed, values are numbers, histogram buckets are
// cumulative and end in +Inf equal to _count. It throws on the first bad line.

export type Sample = { name: string; labels: Record<string, string>; value: number };
export type Family = { name: string; type: string; help?: string; samples: Sample[] };

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count', ''],
  counter: ['', '_total'],
  gauge: [''],
  untyped: [''],
};

function parseValue(s: string, line: string): number {
  // Prometheus reads values with Go's ParseFloat: Inf/Infinity/NaN in any case (prom-client
  // writes "Nan" for a lag metric that has no sample yet).
  if (/^\+?inf(inity)?$/i.test(s)) return Infinity;
  if (/^-inf(inity)?$/i.test(s)) return -Infinity;
  if (/^nan$/i.test(s)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`bad value "${s}" in: ${line}`);
  return Number(s);
}

function parseLabels(s: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`bad labels in: ${line}`);
    const name = s.slice(i, eq).trim();
    if (!LABEL.test(name)) throw new Error(`bad label name "${name}" in: ${line}`);
    if (s[eq + 1] !== '"') throw new Error(`unquoted label value in: ${line}`);
    let j = eq + 2;
    let value = '';
    for (; j < s.length && s[j] !== '"'; j++) {
      if (s[j] === '\\') {
        const n = s[++j];
        if (n === 'n') value += '\n';
        else if (n === '\\' || n === '"') value += n;
        else throw new Error(`bad escape in: ${line}`);
      } else value += s[j];
    }
    if (s[j] !== '"') throw new Error(`unterminated label value in: ${line}`);
    if (name in labels) throw new Error(`repeated label ${name} in: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (s[i] === ',') i++;
    else if (i < s.length) throw new Error(`expected , between labels in: ${line}`);
  }
  return labels;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) continue; // other comments are allowed
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      const f = families.get(name) ?? { name, type: 'untyped', samples: [] };
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`bad type in: ${line}`);
        if (f.samples.length) throw new Error(`TYPE after samples in: ${line}`);
        f.type = rest;
      } else f.help = rest;
      families.set(name, f);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const name = m[1]!;
    const labels = m[3] !== undefined ? parseLabels(m[3], line) : {};
    const value = parseValue(m[4]!, line);
    const family = [...families.values()].find((f) =>
      (SUFFIXES[f.type] ?? ['']).some((suffix) => f.name + suffix === name),
    );
    if (!family) throw new Error(`sample of an undeclared family: ${line}`);
    if (family.type === 'histogram' && name.endsWith('_bucket') && labels.le === undefined)
      throw new Error(`bucket without le: ${line}`);
    family.samples.push({ name, labels, value });
  }
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const series = new Map<string, Sample[]>();
  for (const s of f.samples) {
    if (!s.name.endsWith('_bucket')) continue;
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(rest);
    series.set(key, [...(series.get(key) ?? []), s]);
  }
  for (const [key, buckets] of series) {
    let prev = -Infinity;
    let prevValue = 0;
    for (const b of buckets) {
      const le = parseValue(b.labels.le!, `${f.name} le`);
      if (le <= prev) throw new Error(`${f.name}${key}: buckets out of order`);
      if (b.value < prevValue) throw new Error(`${f.name}${key}: buckets not cumulative`);
      prev = le;
      prevValue = b.value;
    }
    if (prev !== Infinity) throw new Error(`${f.name}${key}: no +Inf bucket`);
    const count = f.samples.find((s) => s.name === `${f.name}_count` && JSON.stringify(s.labels) === key);
    if (!count || count.value !== prevValue) throw new Error(`${f.name}${key}: _count differs from the +Inf bucket`);
  }
}

/** Sum of a family's samples named `sample` whose labels include `match`. */
export function sum(
  families: Map<string, Family>,
  family: string,
  match: Record<string, string> = {},
  sample = family,
): number {
  const f = families.get(family);
  if (!f) return 0;
  return f.samples
    .filter((s) => s.name === sample && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}
