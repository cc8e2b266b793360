/**
 * Building a result: what the run orchestration calls once the engine, chaos runner and checkers
 * have finished. createResult() redacts every free-form part and validates the whole; the derive/
 * helpers compute the measured parts from a history where the engine did not.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { EXIT_INTERRUPTED } from '../base/errors.ts';
import { redact } from './redact.ts';
import { interruptionText, type Interruption } from './verdict.ts';
import { parseResult, RESULT_SCHEMA_VERSION, type Environment, type RunResult, type RunResultInput } from './result-schema.ts';

export { RESULT_SCHEMA_VERSION };

/** Validate and redact. Throws a ZodError naming each bad field (a producer bug, not a user error). */
export function createResult(input: Omit<RunResultInput, 'schemaVersion'> & { schemaVersion?: 1 }): RunResult {
  return parseResult({
    ...input,
    schemaVersion: RESULT_SCHEMA_VERSION,
    // The backend label may be a URL a user gave (--target), with a password in it.
    scenario: redact(input.scenario),
    config: redact(input.config),
    topology: redact(input.topology),
    faultPlan: redact(input.faultPlan),
    timeline: redact(input.timeline ?? []),
  });
}

/** Node, OS, machine and git commit of this process; versions of redis/k6 are the caller's to pass. */
export function collectEnvironment(opts: { redis?: string | null; k6?: string | null; cwd?: string; stateproofVersion?: string; backend?: { name: string; versions: Record<string, string> } } = {}): Environment {
  const cpus = os.cpus();
  return {
    node: process.version,
    redis: opts.redis ?? null,
    k6: opts.k6 ?? null,
    os: `${os.type()} ${os.release()}`,
    arch: os.arch(),
    cpus: Math.max(1, cpus.length),
    cpuModel: cpus[0]?.model.trim(),
    memoryBytes: os.totalmem(),
    gitCommit: gitCommit(opts.cwd ?? process.cwd()),
    ...(opts.stateproofVersion ? { stateproofVersion: opts.stateproofVersion } : {}),
    ...(opts.backend ? { backend: { name: opts.backend.name, versions: { ...opts.backend.versions } } } : {}),
  };
}

function gitCommit(cwd: string): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString().trim() || null;
  } catch {
    return null;
  }
}

/**
 * The verdict from invariants and thresholds: pass only if every invariant holds and every
 * threshold is met. Reasons list failed invariants first. An interrupted run is neither: its
 * reasons say so first, then what the partial history showed, and it exits 105.
 */
export function verdictOf(result: Pick<RunResult, 'invariants' | 'thresholds'>, extraReasons: string[] = [], interrupted?: Interruption): RunResult['verdict'] {
  const reasons = [
    ...result.invariants
      .filter((i) => !i.holds)
      .map((i) => (i.status === 'no-evidence' ? `invariant ${i.name}: no evidence (${i.evidence ?? 'nothing checked'})` : `invariant ${i.name} violated: ${i.anomalies.length} anomal${i.anomalies.length === 1 ? 'y' : 'ies'}`)),
    ...result.thresholds.filter((t) => !t.ok).map((t) => `threshold ${t.metric} ${t.expression} failed${t.observed ? ` (observed ${t.observed})` : ''}`),
    ...extraReasons,
  ];
  if (interrupted) {
    return { pass: false, exitCode: EXIT_INTERRUPTED, reasons: [`run ${interruptionText(interrupted)}`, ...reasons.map((r) => `${r} (partial history)`)], interrupted };
  }
  return { pass: reasons.length === 0, exitCode: reasons.length === 0 ? 0 : 1, reasons };
}
