import { writeFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
import { bundleScript } from '../../src/engine/index.ts';
import { writeScript } from './helpers.ts';

const SOURCE = `import http from 'k6/http';
import { check } from 'k6';
import exec from 'k6/execution';
import { Trend } from 'k6/metrics';
import { setTimeout } from 'k6/timers';
import { double } from './lib.ts';
const t = new Trend('t');
export const options: Record<string, unknown> = { vus: 1, iterations: double(1) };
export default async function (): Promise<void> {
  const r = await http.asyncRequest('GET', 'http://127.0.0.1:1/');
  check(r, { ok: (x) => x.status === 200 });
  t.add(exec.vu.idInTest + __ITER);
  setTimeout(() => {}, 1);
}`;

function fixture() {
  const s = writeScript(SOURCE);
  writeFileSync(path.join(s.dir, 'lib.ts'), 'export const double = (n: number): number => n * 2;\n');
  return s;
}

describe('bundleScript', () => {
  it('k6 target: one ESM file, k6 modules left as imports, local TypeScript inlined', async () => {
    const s = fixture();
    try {
      const b = await bundleScript(s.file, { target: 'k6' });
      const imports = [...b.code.matchAll(/from\s+"([^"]+)"/g)].map((m) => m[1]);
      expect(new Set(imports)).toEqual(new Set(['k6/http', 'k6', 'k6/execution', 'k6/metrics', 'k6/timers']));
      expect(b.code).not.toMatch(/require\(/);
      expect(b.code).toMatch(/__ITER/);
      expect(b.code).toMatch(/n \* 2/);
      // It parses as an ES module (what k6 loads) with only those imports.
      const check = await esbuild.transform(b.code, { format: 'esm', loader: 'js' });
      expect(check.warnings).toHaveLength(0);
    } finally {
      s.cleanup();
    }
  });

  it('node target: CommonJS whose k6 modules are require() calls the engine answers, __ITER bound to the VU', async () => {
    const s = fixture();
    try {
      const b = await bundleScript(s.file, { target: 'node' });
      for (const m of ['k6/http', 'k6', 'k6/execution', 'k6/metrics', 'k6/timers']) expect(b.code).toContain(`require("${m}")`);
      expect(b.code).toContain('__stateproof_ctx.iter');
      expect(() => new vm.Script(`(function (require, module, exports) {${b.code}\n})`)).not.toThrow();
    } finally {
      s.cleanup();
    }
  });

  it('remote modules: external for k6, a named error for the built-in engine', async () => {
    const s = writeScript(`import { textSummary } from 'https://jslib.k6.io/k6-summary/0.0.2/index.js';\nexport default function () { textSummary; }\n`, 'remote.js');
    try {
      const k6 = await bundleScript(s.file, { target: 'k6' });
      expect(k6.code).toContain('https://jslib.k6.io/k6-summary/0.0.2/index.js');
      await expect(bundleScript(s.file, { target: 'node' })).rejects.toThrow(/remote module "https:\/\/jslib.k6.io.*cannot be loaded by the built-in engine/);
    } finally {
      s.cleanup();
    }
  });
});
