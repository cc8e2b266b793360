/** What a caller asks of one scenario run, and the run as resolved from it before anything starts. */
import type { Profile, ScenarioSpec } from '../../scenarios/lib/spec-types.ts';
import type { AdapterInfo } from '../backend/adapters.ts';
import type { ResolvedProfile } from '../backend/profile.ts';
import type { LoadOverrides } from '../engine/load-overrides.ts';
import type { Progress } from '../engine/types.ts';
import type { RouterPolicy, StoreKind } from '../topology/index.ts';
import type { resolveScenario } from './scenarios.ts';

export interface RunOptions {
  /** A built-in scenario name or a path to a k6 script. */
  scenario: string;
  profile?: Profile;
  /** -e KEY=VALUE for the script's __ENV. */
  env?: Record<string, string>;
  engine?: 'builtin' | 'k6';
  k6Path?: string;
  instances?: number;
  router?: RouterPolicy;
  /** The store under the service (local topology). Default redis. */
  store?: StoreKind;
  /** Safeguards to switch off on every instance. */
  unsafe?: string[];
  /** Seed of the fault plan's randomness. */
  seed?: number;
  /** External backend: its entry URL (no topology is started). Shorthand for a profile with one instance. */
  target?: string;
  /**
   * The backend profile: the user's instances (the harness's router goes in front of several),
   * tenants, declared bounds, capabilities, metric names and waivers. The run judges the backend
   * by the contract and by these declarations alone.
   */
  backend?: ResolvedProfile;
  /**
   * The backend the local topology starts: 'reference' (the default: the reference service) or the
   * name of an adapter under backends/ (src/backend/adapters.ts). With an adapter, N adapter
   * processes run behind the router instead of reference-service instances, each on its own link to
   * the store (the adapter's default store, or `store` where the adapter supports it), and the run
   * is judged by the adapter's own stateproof.backend.json and labelled by its name. Not with
   * `target`, `backend` or `unsafe`.
   */
  adapter?: string;
  toxiproxyUrl?: string;
  redisUrl?: string;
  /** Root under which reports/<run-id>/ is written. */
  outDir?: string;
  runId?: string;
  /** --vus / --duration / --rate, applied to each of the scenario's executors (built-in engine). */
  load?: LoadOverrides;
  /** --runners: engine processes that split the load by execution segment (built-in engine or real k6). */
  runners?: number;
  /** --sink-listen: where the history sink listens, so runners on other machines can record into this run. */
  sinkListen?: { host: string; port: number };
  /** The sink's bearer token (STATEPROOF_SINK_TOKEN); default random per run. */
  sinkToken?: string;
  /** history.edn's byte budget (reads carry whole lists, so it grows as reads × session length). Default ELLE_MAX_BYTES. */
  elleMaxBytes?: number;
  /** A label for compare, e.g. "reference --unsafe cas". */
  backendLabel?: string;
  signal?: AbortSignal;
  /**
   * Skip the contract preflight of an external backend. For tests of what the harness does with
   * a target that does not speak the contract (test/hardening); a user's run always preflights.
   */
  skipPreflight?: boolean;
  /**
   * Live progress; `anomalies` counts what can be judged per answer while the load runs (a bare
   * 5xx, an answer that does not say its mode). History checks run after the load.
   */
  onProgress?: (p: LiveProgress) => void;
  log?: (line: string) => void;
}

export type LiveProgress = Progress & { activeFaults: string[]; anomalies: number };

export const RUN_DEFAULTS = { profile: 'ci' as const, outDir: 'reports', engine: 'builtin' as const };

export interface RunContext {
  opts: RunOptions;
  spec: ScenarioSpec | undefined;
  resolved: ReturnType<typeof resolveScenario>;
  env: Record<string, string>;
  runId: string;
  runDir: string;
  unsafe: string[];
  profile: string;
  log: (line: string) => void;
  /** The backend profile the run judges by (external backends and adapters), resolved. */
  backend?: ResolvedProfile;
  /** The adapter the local topology runs instead of the reference service. */
  adapter?: AdapterInfo;
}
