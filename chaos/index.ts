/** chaos/: fault injection — the Toxiproxy-compatible server, fault plans and their runner, store and process faults. */
export { startToxiproxyServer, type ToxiproxyServer, type ToxiproxyServerOptions } from './server.ts';
export { runPlan, DEFAULTS as RUNNER_DEFAULTS, type PlanTargets, type PlanRun, type RunPlanOptions, type FaultTimeline, type FaultTimelineEntry } from './runner.ts';
export { validatePlan, planSchema, faultSchema, durationMs, STORE_TARGET, type FaultPlan, type PlanEntry, type Fault, type FaultType, type Duration } from './plan.ts';
export { randomPlan, type RandomPlanOptions } from './random-plan.ts';
export { killProcess, stopProcess, restartProcess, rollingRestart, isAlive, processState, type FaultableProcess, type AppliedFault } from './process.ts';
export { storeOutOfMemory, storeEviction, storePauseWrites, storeStall, storeFlushAll, storeRestart, type FaultableStore } from './store-faults.ts';
export { pgTerminateBackends, pgReadOnly, pgStall, pgConnectionsExhausted, pgRestart, type FaultablePostgres } from './pg-faults.ts';
export { STORE_KINDS, STORE_FAULTS_BY_KIND, storeFaultRefusal, type StoreKind } from './store-kinds.ts';
export { addToxic, proxyDown, type ToxicFault } from './network-faults.ts';
export { seededRandom, type Random } from '../src/base/random.ts';
