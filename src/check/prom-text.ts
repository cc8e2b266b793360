/**
 * A small parser for the Prometheus text exposition format (version 0.0.4, what prom-client
 * serves): `# HELP`, `# TYPE`, and `name{label="value",...} value [timestamp]` lines.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type?: string;
  samples: Sample[];
}

const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created'];

export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const family = (name: string): MetricFamily => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, samples: [] }));
    return f;
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s+(.*))?$/.exec(line);
      if (m && m[1] === 'TYPE') family(m[2]!).type = m[3]?.trim();
      else if (m) family(m[2]!);
      continue;
    }
    const sample = parseSample(line);
    if (!sample) continue;
    family(familyOf(sample.name, families)).samples.push(sample);
  }
  return families;
}

function familyOf(sampleName: string, families: Map<string, MetricFamily>): string {
  if (families.has(sampleName)) return sampleName;
  for (const s of SUFFIXES) {
    if (sampleName.endsWith(s) && families.has(sampleName.slice(0, -s.length))) return sampleName.slice(0, -s.length);
  }
  return sampleName;
}

function parseSample(line: string): Sample | undefined {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!m) return undefined;
  const name = m[1]!;
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"/.exec(line.slice(i));
      if (!lm) return undefined;
      i += lm[0].length;
      let value = '';
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\') {
          const c = line[++i];
          value += c === 'n' ? '\n' : (c ?? '');
        } else value += line[i];
        i++;
      }
      if (line[i] !== '"') return undefined;
      i++;
      labels[lm[1]!] = value;
    }
  }
  const rest = line.slice(i).trim().split(/\s+/);
  const value = parseValue(rest[0] ?? '');
  return value === undefined ? undefined : { name, labels, value };
}

function parseValue(s: string): number | undefined {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  const v = Number(s);
  return s !== '' && !Number.isNaN(v) ? v : undefined;
}

/** Sum of a family's samples whose labels include `match` (and whose name is `sampleName`, default the family's). */
export function sumSamples(f: MetricFamily | undefined, match: Record<string, string> = {}, sampleName?: string): number {
  if (!f) return 0;
  let total = 0;
  for (const s of f.samples) {
    if (sampleName !== undefined ? s.name !== sampleName : s.name !== f.name && s.name !== `${f.name}_total`) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}
