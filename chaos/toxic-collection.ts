/**
 * The toxics of one proxy: one ordered chain per direction, mirrored into every open
 * connection's link, so a toxic takes effect on connections already open (Toxiproxy's
 * toxic_collection.go). Every change here is synchronous: it can never wait on traffic.
 */
import { apiErrors } from './api-errors.ts';
import { asObject, field, mergeAttributes } from './json-body.ts';
import type { Connection, Direction, ToxicEntry } from './link.ts';
import { toxicDefinition } from './toxics/index.ts';

export interface ToxicJson {
  attributes: Record<string, number>;
  name: string;
  type: string;
  stream: string;
  toxicity: number;
}

const DIRECTIONS: Direction[] = ['upstream', 'downstream'];

export function toxicJson(t: ToxicEntry): ToxicJson {
  return { attributes: { ...t.attributes }, name: t.name, type: t.type, stream: t.stream, toxicity: t.toxicity };
}

function parseDirection(stream: string): Direction | undefined {
  const s = stream.toLowerCase();
  return s === 'upstream' || s === 'downstream' ? s : undefined;
}

/** A toxic as data workers receive it: the entry without its resolved definition. */
export type WireToxic = Omit<ToxicEntry, 'definition'>;
export type ToxicChange = { t: 'add' | 'update'; toxic: WireToxic } | { t: 'remove'; name: string; direction: Direction };

export function wireToxic({ definition: _definition, ...rest }: ToxicEntry): WireToxic {
  return rest;
}

export class ToxicCollection {
  private readonly chains: Record<Direction, ToxicEntry[]> = { upstream: [], downstream: [] };

  constructor(
    private readonly connections: () => Iterable<Connection>,
    /** Told every change, for connections held by data workers (./data-workers.ts). */
    private readonly mirror?: (change: ToxicChange) => void,
  ) {}

  /** Copies of both chains, for a new connection. */
  snapshot(): Record<Direction, ToxicEntry[]> {
    return { upstream: [...this.chains.upstream], downstream: [...this.chains.downstream] };
  }

  list(): ToxicJson[] {
    return DIRECTIONS.flatMap((d) => this.chains[d].map(toxicJson));
  }

  find(name: string): ToxicEntry | undefined {
    for (const d of DIRECTIONS) {
      const t = this.chains[d].find((x) => x.name === name);
      if (t) return t;
    }
    return undefined;
  }

  get(name: string): ToxicJson {
    const t = this.find(name);
    if (!t) throw apiErrors.toxicNotFound();
    return toxicJson(t);
  }

  /** POST /proxies/{proxy}/toxics, with Toxiproxy's defaults and its order of checks. */
  add(body: unknown): ToxicJson {
    const obj = asObject(body, 'toxics.ToxicWrapper');
    const stream = field<string>(obj, 'stream', 'string', 'ToxicWrapper') ?? 'downstream';
    const type = field<string>(obj, 'type', 'string', 'ToxicWrapper') ?? '';
    const toxicity = field<number>(obj, 'toxicity', 'number', 'ToxicWrapper') ?? 1.0;
    let name = field<string>(obj, 'name', 'string', 'ToxicWrapper') ?? '';
    const direction = parseDirection(stream);
    if (!direction) throw apiErrors.invalidStream();
    if (name === '') name = `${type}_${stream}`;
    const definition = toxicDefinition(type);
    if (!definition) throw apiErrors.invalidToxicType();
    if (this.find(name)) throw apiErrors.toxicAlreadyExists();
    const zero = Object.fromEntries(Object.keys(definition.attributes).map((k) => [k, 0]));
    const attributes = mergeAttributes(zero, obj.attributes, definition.attributes, definition.goName);
    const entry: ToxicEntry = { name, type, stream, direction, toxicity, attributes, definition };
    this.chains[direction].push(entry);
    for (const c of this.connections()) c.link(direction).addToxic(entry);
    this.mirror?.({ t: 'add', toxic: wireToxic(entry) });
    return toxicJson(entry);
  }

  /** POST/PATCH /proxies/{proxy}/toxics/{toxic}: attributes merge; toxicity is replaced if given. */
  update(name: string, body: unknown): ToxicJson {
    const current = this.find(name);
    if (!current) throw apiErrors.toxicNotFound();
    const obj = asObject(body, 'struct { Attributes interface {}; Toxicity float32 }');
    const toxicity = field<number>(obj, 'toxicity', 'number', 'ToxicWrapper') ?? current.toxicity;
    const attributes = mergeAttributes(current.attributes, obj.attributes, current.definition.attributes, current.definition.goName);
    const entry: ToxicEntry = { ...current, toxicity, attributes };
    const chain = this.chains[entry.direction];
    chain[chain.indexOf(current)] = entry;
    for (const c of this.connections()) c.link(entry.direction).updateToxic(entry);
    this.mirror?.({ t: 'update', toxic: wireToxic(entry) });
    return toxicJson(entry);
  }

  remove(name: string): void {
    const t = this.find(name);
    if (!t) throw apiErrors.toxicNotFound();
    const chain = this.chains[t.direction];
    chain.splice(chain.indexOf(t), 1);
    for (const c of this.connections()) c.link(t.direction).removeToxic(name);
    this.mirror?.({ t: 'remove', name, direction: t.direction });
  }

  reset(): void {
    for (const d of DIRECTIONS) for (const t of [...this.chains[d]]) this.remove(t.name);
  }
}
