/**
 * How many blocking VUs this machine can hold. A blocking VU is a worker thread with its own V8
 * heap (bench/blocking-vus.bench.ts measures it: about 8 MB resident each); asking for more than
 * the memory left would end with the kernel killing the run half-way, so it is refused up front.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { UsageError } from '../../base/errors.ts';
import type { ScenarioConfig } from '../options.ts';

/** Resident memory one blocking VU needs, MB (measured, rounded up; see the bench). */
export const BLOCKING_VU_MB = 10;
/** Share of the available memory the VUs may take (the rest: the engine, the target, the OS). */
const USABLE_SHARE = 0.8;

/** The most VUs the scenarios can hold at once (arrival-rate ones may grow to maxVUs). */
export function peakVUs(configs: ScenarioConfig[]): number {
  return configs.reduce((a, c) => {
    switch (c.executor) {
      case 'constant-arrival-rate':
      case 'ramping-arrival-rate':
        return a + Math.max(c.preAllocatedVUs, c.maxVUs);
      case 'ramping-vus':
        return a + Math.max(c.startVUs, ...c.stages.map((s) => s.target));
      default:
        return a + c.vus;
    }
  }, 0);
}

/** Memory this process may still use, MB: the free memory, or the cgroup's limit when lower. */
export function availableMB(): number {
  let bytes = os.freemem();
  try {
    const limit = readFileSync('/sys/fs/cgroup/memory.max', 'utf8').trim();
    const used = Number(readFileSync('/sys/fs/cgroup/memory.current', 'utf8').trim());
    if (limit !== 'max' && Number.isFinite(Number(limit))) bytes = Math.min(bytes, Number(limit) - used);
  } catch {
    // No cgroup v2 memory controller: the free memory is the bound.
  }
  return bytes / 1048576;
}

/** Refuses a run whose blocking VUs would not fit in memory (VU 0 runs setup and counts too). */
export function checkBlockingVUs(configs: ScenarioConfig[], reasons: string[], available = availableMB()): void {
  const vus = peakVUs(configs) + 1;
  const neededMB = vus * BLOCKING_VU_MB;
  const usableMB = Math.floor(available * USABLE_SHARE);
  if (neededMB <= usableMB) return;
  const fits = Math.max(0, Math.floor(usableMB / BLOCKING_VU_MB) - 1);
  throw new UsageError(
    `${vus - 1} VUs that block (the script uses ${reasons.join(', ')}) need about ${neededMB} MB, ${BLOCKING_VU_MB} MB each, ` +
      `but only ${usableMB} MB can be given to them here: run at most ${fits} VUs, or use http.asyncRequest (in-process VUs need far less)`,
  );
}
