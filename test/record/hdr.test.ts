/**
 * The one HDR configuration: values past the highest trackable saturate and are counted, and
 * snapshots from the engine (its metric registry) and from the report path (derived from a history)
 * merge into exactly the histogram one recorder would have made.
 */
import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { Registry } from '../../src/engine/metrics/registry.ts';
import type { HistoryEntry } from '../../src/record/history.ts';
import { decodeSnapshot, HIGHEST_TRACKABLE_US, LatencyHistogram, latencyUs, mergeSnapshots, msToUs } from '../../src/record/hdr.ts';
import { latencyFromHistory } from '../../src/report/derive/from-history.ts';
import { parseResult } from '../../src/report/result-schema.ts';
import { findSnapshot } from '../../src/report/snapshots.ts';
import { makeResult } from '../report/fixture.ts';

const HOUR_MS = HIGHEST_TRACKABLE_US / 1000;
/** How many recorded values sit in the bucket of `us`. */
function countAt(h: hdr.Histogram, us: number): number {
  const js = h as hdr.JsHistogram;
  const it = js.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    if (js.lowestEquivalentValue(v.valueIteratedTo) === js.lowestEquivalentValue(us)) return v.countAtValueIteratedTo;
  }
  return 0;
}

function entry(id: number, latencyMs: number): HistoryEntry {
  const startMs = 1_700_000_000_000 + id * 10;
  return { id, vu: 1, op: 'read', session: 's1', intendedStartMs: startMs, startMs, endMs: startMs + latencyMs, outcome: 'ok', status: 200, instance: 'i1' };
}

describe('saturation', () => {
  it('records a value over the highest trackable as the highest, and counts it', () => {
    const h = new LatencyHistogram();
    for (const us of [5, 1_000, HIGHEST_TRACKABLE_US, HIGHEST_TRACKABLE_US + 1, 10 * HIGHEST_TRACKABLE_US, 2 ** 40]) h.recordUs(us);
    expect(h.count).toBe(6);
    expect(h.saturated).toBe(3);
    expect(h.histogram.maxValue).toBe(HIGHEST_TRACKABLE_US);
    expect(countAt(h.histogram, HIGHEST_TRACKABLE_US)).toBe(4);
    expect(h.encode()).toMatchObject({ count: 6, saturated: 3 });
  });

  it('counts every one of a weighted value', () => {
    const h = new LatencyHistogram();
    h.recordUsWithCount(HIGHEST_TRACKABLE_US * 2, 7);
    h.recordUsWithCount(100, 3);
    expect(h.encode()).toMatchObject({ count: 10, saturated: 7 });
  });

  it('is counted by the engine registry and carried in its snapshots', () => {
    const reg = new Registry();
    const m = reg.define('http_req_duration', 'trend', 'time');
    reg.add(m, 12, {});
    reg.add(m, HOUR_MS * 3, {});
    const [snap] = reg.snapshots();
    expect(snap).toMatchObject({ metric: 'http_req_duration', count: 2, saturated: 1 });
    expect(reg.trend('http_req_duration')!.hdr.saturated).toBe(1);
  });

  it('is counted in the snapshots a result derives from its history, and kept by result.json', () => {
    const history = [entry(1, 3), entry(2, HOUR_MS + 60_000), entry(3, 2 * HOUR_MS)];
    const snaps = latencyFromHistory(history, []);
    for (const kind of ['corrected', 'service'] as const) expect(findSnapshot(snaps, { kind })).toMatchObject({ count: 3, saturated: 2 });
    expect(findSnapshot(snaps, { instance: 'i1' })).toMatchObject({ count: 3, saturated: 2 });

    const { result } = makeResult({ durationSec: 5, withFaults: false });
    const all = findSnapshot(result.latency.histograms, {})!;
    expect(all.saturated).toBe(0);
    const reparsed = parseResult(JSON.parse(JSON.stringify({ ...result, latency: { ...result.latency, histograms: snaps } })));
    expect(findSnapshot(reparsed.latency.histograms, {})!.saturated).toBe(2);
    // A result written before the field existed still reads, as 0 saturated.
    const { saturated: _, ...old } = all;
    expect(parseResult(JSON.parse(JSON.stringify({ ...result, latency: { ...result.latency, histograms: [old] } }))).latency.histograms[0]!.saturated).toBe(0);
  });
});

describe('merging', () => {
  it('snapshots from the engine and from the report path add up exactly, saturation included', () => {
    const engineMs = [0.4, 1, 1, 2.5, 7, 120, 950, HOUR_MS * 2, 40_000];
    const historyMs = [0, 3, 3, 8, 250, 1_800_000, HOUR_MS + 1, HOUR_MS * 5];

    const reg = new Registry();
    const m = reg.define('http_req_duration', 'trend', 'time');
    for (const ms of engineMs) reg.add(m, ms, {});
    const fromEngine = reg.snapshots();
    const history = historyMs.map((ms, i) => entry(i, ms));
    const fromReport = findSnapshot(latencyFromHistory(history, []), { kind: 'service' })!;

    const merged = mergeSnapshots([...fromEngine, fromReport]);
    expect(merged.count).toBe(engineMs.length + historyMs.length);
    expect(merged.saturated).toBe(3);

    // The same values through one recorder, each converted the way its path converts it.
    const one = new LatencyHistogram();
    for (const ms of engineMs) one.recordUs(msToUs(ms));
    for (const ms of historyMs) one.recordUs(latencyUs(ms));
    expect(merged.saturated).toBe(one.saturated);
    expect(merged.encode().snapshot).toBe(one.encode().snapshot);
    const a = merged.histogram;
    const b = decodeSnapshot(one.encode().snapshot);
    for (const p of [1, 25, 50, 75, 90, 99, 100]) expect(a.getValueAtPercentile(p)).toBe(b.getValueAtPercentile(p));
  });

  it('folds a wider, auto-resized snapshot of an older version in, its values past the top as saturated', () => {
    const old = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, bitBucketSize: 32, autoResize: true, useWebAssembly: false });
    for (const us of [100, 2_000, 2 ** 36, 2 ** 37]) old.recordValue(us);
    const current = new LatencyHistogram();
    current.recordUs(HIGHEST_TRACKABLE_US * 2);
    current.recordUs(50);
    const merged = mergeSnapshots([{ snapshot: hdr.encodeIntoCompressedBase64(old), saturated: 0 }, current.encode()]);
    expect(merged.count).toBe(6);
    expect(merged.saturated).toBe(3);
    expect(countAt(merged.histogram, HIGHEST_TRACKABLE_US)).toBe(3);
    expect(countAt(merged.histogram, 2_000)).toBe(1);
  });
});
