/**
 * The tags and HDR series of one HTTP request's samples, memoised per VU.
 *
 * k6 tags a request's samples with the VU's base tags, method, url, name, proto, the script's
 * params.tags, then status, error_code and expected_response. The series (the tag set minus `url`,
 * and minus `name` when it only repeats the URL) never depends on the URL itself, so it is looked
 * up by a short key of everything else; the full tag object, with the URL, is built only when a
 * threshold submetric on an http metric needs it for matching.
 */
import type { Metric, SeriesRef, Tags } from '../metrics/registry.ts';
import type { TestRun } from '../test-run.ts';
import type { BaseTags } from '../vu.ts';

export interface RequestSample {
  method: string;
  url: string;
  /** params.tags.name, when the script named the request. */
  name: string | undefined;
  paramsTags: Record<string, string> | undefined;
  status: number;
  errorCode: number;
  expected: boolean | undefined;
}

interface Memo {
  ref: SeriesRef;
  /** The request's tags, as built for the first request with this key (its url is not the key's). */
  tags: Tags;
}

/** A recent lookup, compared field by field (no key string) before the memo map is consulted. */
interface Recent extends RequestSample {
  base: BaseTags;
  memo: Memo;
}

/** Distinct keys a VU keeps; past this the memo starts over (memory stays bounded). */
const MAX_MEMO = 1_000;
/** Recent lookups kept per VU: a script's few kinds of request hit these. */
const RECENT = 4;

export class RequestSeries {
  private readonly memo = new Map<string, Memo>();
  private readonly recent: Recent[] = [];
  private nextRecent = 0;

  constructor(private readonly run: TestRun) {}

  /** Tags for matching submetrics (exactly this request's) and the series its samples go to. */
  of(base: BaseTags, s: RequestSample): { tags: Tags; ref: SeriesRef } {
    const m = this.recentMemo(base, s) ?? this.lookup(base, s);
    return hasSubmetrics(this.run.m) ? { ref: m.ref, tags: build(base.tags, s) } : m;
  }

  private recentMemo(base: BaseTags, s: RequestSample): Memo | undefined {
    for (let i = 0; i < this.recent.length; i++) {
      const r = this.recent[i]!;
      if (
        r.base === base && r.method === s.method && r.status === s.status && r.errorCode === s.errorCode &&
        r.expected === s.expected && r.name === s.name && sameTags(r.paramsTags, s.paramsTags)
      ) {
        return r.memo;
      }
    }
    return undefined;
  }

  private lookup(base: BaseTags, s: RequestSample): Memo {
    let key = `${base.id}\u0001${s.method}\u0001${s.status}\u0001${s.errorCode}\u0001${s.expected}`;
    if (s.name !== undefined) key += `\u0001${s.name}`;
    if (s.paramsTags) for (const k in s.paramsTags) key += `\u0002${k}\u0003${s.paramsTags[k]}`;
    let m = this.memo.get(key);
    if (m === undefined) {
      const tags = build(base.tags, s);
      m = { ref: this.run.registry.seriesKey(tags, s.name === undefined ? 'name' : undefined), tags };
      if (this.memo.size >= MAX_MEMO) this.memo.clear();
      this.memo.set(key, m);
    }
    // Copied: the script may change its params.tags object after the call.
    const paramsTags = s.paramsTags ? { ...s.paramsTags } : undefined;
    this.recent[this.nextRecent] = { ...s, url: '', paramsTags, base, memo: m };
    this.nextRecent = (this.nextRecent + 1) % RECENT;
    return m;
  }
}

function sameTags(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  let n = 0;
  for (const k in b) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _ in a) n--;
  return n === 0;
}

/** The request's tags, in k6's order of precedence. */
function build(base: Tags, s: RequestSample): Tags {
  const tags: Tags = { ...base };
  tags.method = s.method;
  tags.url = s.url;
  tags.name = s.name ?? s.url;
  tags.proto = 'HTTP/1.1';
  if (s.paramsTags) Object.assign(tags, s.paramsTags);
  tags.status = String(s.status);
  if (s.errorCode) tags.error_code = String(s.errorCode);
  if (s.expected !== undefined) tags.expected_response = String(s.expected);
  return tags;
}

function hasSubmetrics(m: Record<'http_reqs' | 'http_req_duration' | 'http_req_waiting' | 'http_req_receiving' | 'http_req_failed', Metric>): boolean {
  return (
    m.http_reqs.submetrics.length + m.http_req_duration.submetrics.length + m.http_req_waiting.submetrics.length + m.http_req_receiving.submetrics.length + m.http_req_failed.submetrics.length > 0
  );
}
