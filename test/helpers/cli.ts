/**
 * Runs the real `stateproof` binary and collects what it printed and how it exited.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

export const BIN = path.resolve('bin/stateproof.mjs');

export function cli(args: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? process.cwd(), env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 200_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
