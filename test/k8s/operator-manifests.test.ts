/**
 * `stateproof k8s`: the manifests it writes hold the field structure of k6-operator's TestRun CRD
 * (src/k8s/testrun-schema.ts, written from k6-operator's docs/crd-generated.md), and the bundle
 * in the ConfigMap runs unchanged under the built-in engine split as k6-operator splits it.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { run as k8s } from '../../src/cli/commands/k8s.ts';
import { bundleScript } from '../../src/engine/bundle.ts';
import { runScript } from '../../src/engine/index.ts';
import { runnerSegments } from '../../src/engine/runner-segments.ts';
import { operatorManifests } from '../../src/k8s/operator-manifests.ts';
import { configMapSchema, testRunSchema } from '../../src/k8s/testrun-schema.ts';
import { parseMarks } from '../engine/fixtures/segments/cases.ts';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'engine', 'fixtures', 'segments', 'shared-iterations.js');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stateproof-k8s-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the TestRun schema (from k6-operator's API reference)", () => {
  const docsExample = {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: { name: 'testrun-sample' },
    spec: { parallelism: 4, script: { configMap: { name: 'k6-test', file: 'test.js' } } },
  };
  it("accepts the docs' own example", () => {
    expect(testRunSchema.safeParse(docsExample).success).toBe(true);
  });
  it('refuses what k6-operator would not take: a misspelt field, no runners, two script sources, a bad name', () => {
    const bad = (spec: Record<string, unknown>, metadata: Record<string, unknown> = docsExample.metadata) =>
      testRunSchema.safeParse({ ...docsExample, metadata, spec: { ...docsExample.spec, ...spec } }).success;
    expect(bad({ paralellism: 4 })).toBe(false);
    expect(bad({ parallelism: 0 })).toBe(false);
    expect(bad({ parallelism: 1.5 })).toBe(false);
    expect(bad({ script: { configMap: { name: 'a' }, localFile: '/test/a.js' } })).toBe(false);
    expect(bad({ script: {} })).toBe(false);
    expect(bad({ runner: { image: 'grafana/k6', env: [{ value: 'no name' }] } })).toBe(false);
    expect(bad({ cleanup: 'always' })).toBe(false);
    expect(bad({}, { name: 'Upper_Case' })).toBe(false);
    expect(bad({ runner: { image: 'grafana/k6', env: [{ name: 'A', value: 'b' }] }, separate: true, cleanup: 'post' })).toBe(true);
  });
});

describe('operatorManifests', () => {
  it('puts the bundle, parallelism, image, sink URL and token Secret where k6-operator reads them', () => {
    const m = operatorManifests({ scenario: 'store-outage', bundle: 'export default function () {}\n', parallelism: 3, sinkUrl: 'http://10.0.0.5:7070', env: { STATEPROOF_TARGET: 'http://agent:8080' } });
    expect(m.testRun.spec.parallelism).toBe(3);
    expect(m.testRun.spec.script).toEqual({ configMap: { name: 'stateproof-store-outage', file: 'stateproof-store-outage.js' } });
    expect(m.configMap.data['stateproof-store-outage.js']).toBe('export default function () {}\n');
    expect(m.testRun.spec.runner?.image).toBe('grafana/k6:1.3.0');
    expect(m.testRun.spec.runner?.env).toEqual([
      { name: 'STATEPROOF_HISTORY_URL', value: 'http://10.0.0.5:7070' },
      { name: 'STATEPROOF_SINK_TOKEN', valueFrom: { secretKeyRef: { name: 'stateproof-store-outage-sink', key: 'token' } } },
      { name: 'STATEPROOF_TARGET', value: 'http://agent:8080' },
    ]);
    expect(m.readme).toMatch(/Nothing here starts or touches a cluster/);
  });
  it('refuses a bundle too big for a ConfigMap, pointing at volumeClaim', () => {
    expect(() => operatorManifests({ scenario: 'x', bundle: 'x'.repeat(1_048_577), parallelism: 2 })).toThrow(/volumeClaim/);
  });
});

describe('runnerSegments (k6-operator pkg/segmentation)', () => {
  it('gives runner i of N (i-1)/N:i/N in 0,1/N,...,1, and one runner no flags', () => {
    expect(runnerSegments(1)).toEqual([{ index: 1 }]);
    expect(runnerSegments(3)).toEqual([
      { index: 1, executionSegment: '0:1/3', executionSegmentSequence: '0,1/3,2/3,1' },
      { index: 2, executionSegment: '1/3:2/3', executionSegmentSequence: '0,1/3,2/3,1' },
      { index: 3, executionSegment: '2/3:1', executionSegmentSequence: '0,1/3,2/3,1' },
    ]);
    expect(runnerSegments(4)[1]).toEqual({ index: 2, executionSegment: '1/4:2/4', executionSegmentSequence: '0,1/4,2/4,3/4,1' });
  });
});

describe('stateproof k8s', () => {
  it('writes a ConfigMap and TestRun that hold the CRD structure, and a README; the bundle is the ConfigMap entry', async () => {
    const out = path.join(dir, 'store-outage');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await k8s(['store-outage', '--parallelism', '4', '--out', out, '--sink-url', 'http://10.0.0.5:7070'])).toBe(0);
    } finally {
      write.mockRestore();
    }
    const testRun = testRunSchema.parse(parse(await readFile(path.join(out, 'testrun.yaml'), 'utf8')));
    const configMap = configMapSchema.parse(parse(await readFile(path.join(out, 'configmap.yaml'), 'utf8')));
    expect(testRun.spec.parallelism).toBe(4);
    const file = testRun.spec.script.configMap!.file!;
    expect(configMap.metadata.name).toBe(testRun.spec.script.configMap!.name);
    expect(configMap.data[file]).toBe(await readFile(path.join(out, file), 'utf8'));
    expect(configMap.data[file]).toMatch(/from "k6\/http"/);
    expect(await readFile(path.join(out, 'README.md'), 'utf8')).toMatch(/kubectl apply -f testrun.yaml/);
  });
  it('refuses bad flags with one line each', async () => {
    await expect(k8s(['store-outage'])).rejects.toThrow(/--parallelism N is required/);
    await expect(k8s(['store-outage', '--parallelism', 'two'])).rejects.toThrow(/--parallelism must be a whole number/);
    await expect(k8s(['store-outage', '--parallelism', '2', '--sink-url', 'localhost:7070'])).rejects.toThrow(/--sink-url must be an http\(s\) URL/);
    await expect(k8s(['no-such-scenario', '--parallelism', '2'])).rejects.toThrow(/unknown scenario/);
    await expect(k8s(['store-outage', '--parallelism', '2', '--run-id', 'r1'])).rejects.toThrow('--run-id names the run the pods record into, through the sink: give --sink-url too');
    await expect(k8s(['store-outage', '--parallelism', '2', '--sink-url', 'http://10.0.0.5:7070', '--run-id', 'a/b'])).rejects.toThrow(/^--run-id must be 1 to 100 letters/);
    await expect(k8s(['store-outage', '--parallelism', '2', '--sink-url', 'http://10.0.0.5:7070/runs/r9/history', '--run-id', 'r1'])).rejects.toThrow(/--sink-url names run r9 but --run-id is r1/);
    await expect(k8s(['store-outage', '--parallelism', '2', '--profile', 'stres'])).rejects.toThrow("--profile must be one of ci, full, stress; got 'stres'. Did you mean 'stress'?");
  });
});

describe("the ConfigMap's bundle under the built-in engine, split as k6-operator splits it", () => {
  it('runs unchanged with each runner segment, and the runners together run every iteration exactly once', async () => {
    const bundle = await bundleScript(FIXTURE, { target: 'k6' });
    const m = operatorManifests({ scenario: 'shared-iterations', bundle: bundle.code, parallelism: 3 });
    const file = path.join(dir, m.file);
    await writeFile(file, configMapSchema.parse(parse(JSON.stringify(m.configMap))).data[m.file]!);
    const logged: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return true;
    });
    try {
      const results = await Promise.all(
        runnerSegments(m.testRun.spec.parallelism).map((r) =>
          runScript({ scriptPath: file, env: { RUN: String(r.index) }, executionSegment: r.executionSegment!, executionSegmentSequence: r.executionSegmentSequence! }),
        ),
      );
      expect(results.map((r) => r.exitCode)).toEqual([0, 0, 0]);
    } finally {
      spy.mockRestore();
    }
    const marks = parseMarks(logged.join(''));
    const perRunner = ['1', '2', '3'].map((r) => marks.filter((x) => x.r === r).map((x) => x.i));
    // 7 VUs over thirds: 3, 2, 2 VUs, so 22, 14, 14 of the 50 iterations (as real k6 does).
    expect(perRunner.map((x) => x.length)).toEqual([22, 14, 14]);
    expect(perRunner.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  }, 30_000);
});
