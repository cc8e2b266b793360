/**
 * The load stage: the scenario's k6 script run by the engine against the entry point, every
 * operation it makes going into the run's history as it completes.
 */
import type { PlanRun } from '../../chaos/index.ts';
import { runScript } from '../engine/index.ts';
import type { LoadOverrides } from '../engine/load-overrides.ts';
import type { EngineResult } from '../engine/types.ts';
import type { HistoryEntry } from '../record/history.ts';
import type { HistoryLog } from './history-log.ts';
import type { LiveProgress } from './run-options.ts';

export interface LoadInput {
  scriptPath: string;
  env: Record<string, string>;
  /** The entry point (router or external backend) and who the load speaks as. */
  targetUrl: string;
  tenant: string;
  token: string;
  history: HistoryLog;
  plan: PlanRun | undefined;
  signal: AbortSignal;
  engine?: 'builtin' | 'k6';
  k6Path?: string;
  load?: LoadOverrides;
  onProgress?: (p: LiveProgress) => void;
  runners?: number;
  sinkListen?: { host: string; port: number };
  sinkToken?: string;
  /** The run's id: the sink's path carries it, so a runner from another run is refused. */
  runId?: string;
  log?: (line: string) => void;
}

export async function runLoad(input: LoadInput): Promise<EngineResult> {
  const { env, plan, onProgress } = input;
  let liveAnomalies = 0;
  return runScript({
    scriptPath: input.scriptPath,
    // A token the user gave (-e STATEPROOF_TOKEN, e.g. for their own backend) wins over the topology's.
    env: { ...env, STATEPROOF_TARGET: input.targetUrl, STATEPROOF_TOKEN: env.STATEPROOF_TOKEN ?? input.token, STATEPROOF_TENANT: env.STATEPROOF_TENANT ?? input.tenant },
    history: {
      record: (e) => {
        // The log keeps a normalized, interned copy; the engine's object is garbage after this.
        input.history.add(e as HistoryEntry);
        // What can be judged per answer while the load runs: a bare 5xx, an answer that does not say its mode.
        if ((e.status >= 500 && e.status !== 503) || (e.status > 0 && e.mode === undefined)) liveAnomalies++;
      },
    },
    signal: input.signal,
    phase: plan ? () => plan.active()[0] : undefined,
    engine: input.engine,
    k6Path: input.k6Path,
    load: input.load,
    ...(input.runners !== undefined ? { runners: input.runners } : {}),
    ...(input.sinkListen ? { sinkListen: input.sinkListen } : {}),
    ...(input.sinkToken ? { sinkToken: input.sinkToken } : {}),
    ...(input.runId ? { runId: input.runId } : {}),
    ...(input.log ? { log: input.log } : {}),
    onProgress: onProgress ? (p) => onProgress({ ...p, activeFaults: plan?.active() ?? [], anomalies: liveAnomalies }) : undefined,
  });
}
