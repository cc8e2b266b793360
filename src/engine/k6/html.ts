/**
 * `k6/html` (parseHTML, response.html()) for the Selection methods scripts use most, on
 * node-html-parser: find, text, html, attr, size, first, last, eq, each, map, children, parent,
 * filter, is, val, toArray; each() and map() callbacks get an Element (textContent, innerHTML,
 * nodeName, id, getAttribute, hasAttribute). Any other method is refused, naming itself.
 */
import { createRequire } from 'node:module';
import type { HTMLElement } from 'node-html-parser';
import { UnsupportedFeatureError } from './unsupported.ts';

type Parse = typeof import('node-html-parser').parse;
let parseFn: Parse | undefined;
let parserPath: string | undefined;

/** Where node-html-parser is (a blocking VU's worker is told, as it has no module path of its own). */
export function htmlParserPath(): string {
  return (parserPath ??= createRequire(import.meta.url).resolve('node-html-parser'));
}

export function setHtmlParserPath(p: string): void {
  parserPath = p;
}

/** The parser is loaded on first use: it costs a blocking VU megabytes it need not pay otherwise. */
function parse(source: string): HTMLElement {
  if (parseFn === undefined) {
    const path = parserPath ?? htmlParserPath();
    parseFn = (createRequire(path)(path) as { parse: Parse }).parse;
  }
  return parseFn(source);
}

class Selection {
  constructor(readonly nodes: HTMLElement[]) {}

  find(selector: string): Selection {
    const out: HTMLElement[] = [];
    for (const n of this.nodes) for (const m of n.querySelectorAll(selector)) if (!out.includes(m)) out.push(m);
    return wrap(out);
  }
  text(): string {
    return this.nodes.map((n) => n.textContent).join('');
  }
  html(): string | undefined {
    return this.nodes[0]?.innerHTML;
  }
  attr(name: string, fallback?: string): string | undefined {
    const v = this.nodes[0]?.getAttribute(name);
    return v === undefined ? fallback : v;
  }
  val(): string | undefined {
    return this.attr('value');
  }
  size(): number {
    return this.nodes.length;
  }
  get length(): number {
    return this.nodes.length;
  }
  first(): Selection {
    return wrap(this.nodes.slice(0, 1));
  }
  last(): Selection {
    return wrap(this.nodes.slice(-1));
  }
  eq(i: number): Selection {
    const n = this.nodes.at(i);
    return wrap(n ? [n] : []);
  }
  /** k6 hands each() and map() callbacks an Element, not a Selection. */
  each(fn: (index: number, element: Element) => void): Selection {
    this.nodes.forEach((n, i) => fn(i, element(n)));
    return this;
  }
  map(fn: (index: number, element: Element) => unknown): unknown[] {
    return this.nodes.map((n, i) => fn(i, element(n)));
  }
  children(selector?: string): Selection {
    const kids = this.nodes.flatMap((n) => n.children);
    return wrap(selector ? kids.filter((k) => matches(k, selector)) : kids);
  }
  parent(): Selection {
    const out: HTMLElement[] = [];
    for (const n of this.nodes) if (n.parentNode && !out.includes(n.parentNode)) out.push(n.parentNode);
    return wrap(out);
  }
  filter(selector: string): Selection {
    return wrap(this.nodes.filter((n) => matches(n, selector)));
  }
  is(selector: string): boolean {
    return this.nodes.some((n) => matches(n, selector));
  }
  toArray(): Selection[] {
    return this.nodes.map((n) => wrap([n]));
  }
}

/** k6's Element, for the members scripts use most. */
class Element {
  constructor(private readonly n: HTMLElement) {}
  textContent(): string {
    return this.n.textContent;
  }
  innerHTML(): string {
    return this.n.innerHTML;
  }
  nodeName(): string {
    return this.n.tagName?.toLowerCase() ?? '';
  }
  id(): string {
    return this.n.id;
  }
  getAttribute(name: string): string | undefined {
    return this.n.getAttribute(name);
  }
  hasAttribute(name: string): boolean {
    return this.n.hasAttribute(name);
  }
  selection(): Selection {
    return wrap([this.n]);
  }
}

function element(n: HTMLElement): Element {
  return refusing(new Element(n), 'Element');
}

function matches(n: HTMLElement, selector: string): boolean {
  const root = n.parentNode ?? n;
  return root.querySelectorAll(selector).includes(n);
}

function wrap(nodes: HTMLElement[]): Selection {
  return refusing(new Selection(nodes), 'Selection');
}

/** Unknown methods refuse, naming themselves, instead of failing with "is not a function". */
function refusing<T extends object>(target: T, kind: string): T {
  return new Proxy(target, {
    get(t, key, receiver) {
      if (typeof key !== 'string' || key in t || key === 'then' || key === 'toJSON') return Reflect.get(t, key, receiver) as unknown;
      return () => {
        throw new UnsupportedFeatureError(`k6/html ${kind}.${key}()`);
      };
    },
  });
}

export function parseHTML(source: string): Selection {
  return wrap([parse(String(source))]);
}

/** response.html(selector?) */
export function responseHtml(body: unknown, selector?: string): Selection {
  if (typeof body !== 'string') throw new Error('cannot parse the response body as HTML: the body is not text (responseType or discardResponseBodies)');
  const doc = parseHTML(body);
  return selector === undefined ? doc : doc.find(selector);
}

export const html = { parseHTML };
