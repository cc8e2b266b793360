/**
 * The contract module is the one place both sides of the wire take their names from. It stays
 * importable everywhere (k6 bundles included) only while it imports nothing, and the checkers stay
 * honest judges only while they take those names from it and never from the reference service.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function tsFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}

/** Every module specifier a file imports or re-exports, resolved against the repository root when relative. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+['"]([^'"]+)['"]/gm)].map((m) =>
    m[1]!.startsWith('.') ? path.relative(root, path.resolve(root, path.dirname(file), m[1]!)) : m[1]!,
  );
}

describe('contract boundaries', () => {
  it('src/contract imports only itself (no Node API, no package: scenarios bundle it for k6)', () => {
    const files = tsFiles('src/contract');
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) for (const i of importsOf(f)) expect(i, `${f} imports ${i}`).toMatch(/^src\/contract\//);
  });

  it('the checkers never import the reference service', () => {
    const files = tsFiles('src/check');
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) for (const i of importsOf(f)) expect(i, `${f} imports ${i}`).not.toMatch(/^reference-service\//);
  });

  it('the checkers and the reference service both take the audit record from the contract', () => {
    expect(importsOf('src/check/types.ts')).toContain('src/contract/audit.ts');
    expect(importsOf('reference-service/observability/audit.ts')).toContain('src/contract/audit.ts');
  });
});
