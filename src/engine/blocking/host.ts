/**
 * The main-thread side of one blocking VU: starts its worker, waits for its init code, and then
 * answers it with the VU's own k6 modules (src/engine/k6/), so every sample, check, group and
 * request is made by exactly the code that makes them for an in-process VU. To the executors the
 * VU looks like any other: its exported functions return promises that settle when the worker's
 * call has ended.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { UsageError } from '../../base/errors.ts';
import { createCore } from '../k6/core.ts';
import { createExecution, ENGINE_HOOK, EXIT_SCRIPT_ABORTED } from '../k6/execution.ts';
import { createHttp, ExpectedStatuses, type Params } from '../k6/http.ts';
import { createMetrics } from '../k6/metrics.ts';
import { K6CookieJar } from '../k6/cookie-jar.ts';
import { htmlParserPath } from '../k6/html.ts';
import type { Response } from '../k6/response.ts';
import { Abort } from '../test-run.ts';
import type { ScriptExports, VU } from '../vu.ts';
import { CTL, CTL_CELLS, fromWire, toWire, type Down, type IterationContext, type Up, type WorkerData } from './protocol.ts';
import { GrpcClients, type ProtoSource } from './grpc-host.ts';
import { isWireExpected, isWireJar, toWireResponse } from './wire.ts';
import { WsSessions } from './ws-host.ts';

/** V8 limits of one VU's worker: a small young generation keeps its resident memory low. */
export const WORKER_LIMITS = Object.freeze({ maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 256, stackSizeMb: 1 });
/** How long a VU's init code may take before the engine gives up on it. */
const INIT_TIMEOUT_MS = 60_000;
/** Exported functions whose return value the engine uses. */
const VALUE_FUNCTIONS = new Set(['setup', 'teardown', 'handleSummary']);

type K6Modules = {
  http: ReturnType<typeof createHttp>;
  core: ReturnType<typeof createCore>;
  metrics: ReturnType<typeof createMetrics>;
  hook: ReturnType<typeof createExecution>[typeof ENGINE_HOOK];
};

export class BlockingHost {
  private readonly worker: Worker;
  private readonly ctl: Int32Array;
  private readonly up: MessagePort;
  private readonly down: MessagePort;
  private vu: VU | undefined;
  private k6: K6Modules | undefined;
  private readonly metrics = new Map<string, { add(v: number, tags?: Record<string, string>): void }>();
  private readonly groups: string[] = [];
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private seq = 0;
  private lastData: { value: unknown } | undefined;
  private lastEnv = '';
  private dead: Error | undefined;
  /** Cookie jars the worker made (`new http.CookieJar()`), by its id; id 0 is the VU's own. */
  private readonly jars = new Map<number, K6CookieJar>();
  /** The VU's websockets, made on first use of k6/ws. */
  private ws: WsSessions | undefined;
  /** The VU's gRPC clients, made on first use of k6/net/grpc. */
  private grpc: GrpcClients | undefined;

  constructor(runtime: string, data: Omit<WorkerData, 'ctl' | 'up' | 'down' | 'htmlParser'>) {
    const ctl = new SharedArrayBuffer(CTL_CELLS * 4);
    this.ctl = new Int32Array(ctl);
    const up = new MessageChannel();
    const down = new MessageChannel();
    this.up = up.port2;
    this.down = down.port1;
    const workerData: WorkerData = { ...data, htmlParser: htmlParserPath(), ctl, up: up.port1, down: down.port2 };
    this.worker = new Worker(runtime, {
      eval: true,
      execArgv: [],
      workerData,
      transferList: [up.port1, down.port2],
      resourceLimits: WORKER_LIMITS,
      stdin: false,
    });
    this.worker.on('error', (e) => this.die(e));
    this.worker.on('exit', (code) => this.die(new Error(`its worker exited with code ${code}`)));
  }

  /**
   * Waits (blocking this thread: nothing else can run the VU's init meanwhile) for the init code,
   * binds the worker to `vu` and returns the script's exports as the executors call them.
   */
  bind(vu: VU): ScriptExports {
    const deadline = performance.now() + INIT_TIMEOUT_MS;
    while (Atomics.load(this.ctl, CTL.INIT) === 0) {
      const left = deadline - performance.now();
      if (left <= 0) throw new UsageError(`VU ${vu.id}: its init code did not finish within ${INIT_TIMEOUT_MS / 1000} s`);
      Atomics.wait(this.ctl, CTL.INIT, 0, Math.min(left, 100));
      if (this.dead) throw this.dead;
    }
    this.vu = vu;
    const run = vu.run;
    this.k6 = { http: createHttp(vu), core: createCore(vu), metrics: createMetrics(vu), hook: createExecution(vu)[ENGINE_HOOK] };
    vu.onInterrupt = () => {
      this.ws?.closeAll();
      this.grpc?.closeAll();
      Atomics.store(this.ctl, CTL.EPOCH, vu.epoch);
      Atomics.notify(this.ctl, CTL.SLEEP);
    };
    // What the init code posted before it ended (metric definitions, tags) comes first, in order.
    let done: Extract<Up, { t: 'init-done' }> | undefined;
    for (let m = receiveMessageOnPort(this.up); m !== undefined; m = receiveMessageOnPort(this.up)) {
      const msg = m.message as Up;
      if (msg.t === 'init-done') {
        done = msg;
        break;
      }
      this.handle(msg);
    }
    if (done === undefined) throw new Error(`VU ${vu.id}: its worker reported no init result (internal error)`);
    if (done.error) throw fromWire(done.error);
    this.up.on('message', (m: Up) => {
      try {
        this.handle(m);
      } catch (e) {
        run.failFatal(e instanceof Error ? Object.assign(e, { fatal: true }) : new Error(String(e)));
      }
    });
    const exports: ScriptExports = {};
    if (done.options !== undefined) exports.options = done.options as Record<string, unknown>;
    for (const name of done.exports ?? []) {
      const wantValue = VALUE_FUNCTIONS.has(name);
      exports[name] = (data: unknown) => this.invoke(name, data, wantValue);
    }
    return exports;
  }

  /** Ends the worker (the run is over, or the VU is dropped). */
  async terminate(): Promise<void> {
    this.dead ??= new Error('the run has ended');
    this.up.close();
    this.down.close();
    await this.worker.terminate();
  }

  private invoke(fn: string, data: unknown, wantValue: boolean): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    const vu = this.vu!;
    const ctx: IterationContext = {
      iter: vu.ctx.iter,
      iterationInInstance: vu.iterationInInstance,
      iterationInScenario: vu.iterationInScenario,
      iterationInTest: vu.iterationInTest,
      scenarioIterationInInstance: vu.scenarioIterationInInstance,
      vuIdInTest: vu.idInTest,
      scenario: { name: vu.scenario?.config.name ?? '', executor: vu.scenario?.config.executor ?? '', startTime: vu.scenario ? Math.floor(vu.scenario.startedAtMs) : 0 },
      lagMs: vu.lagMs,
      epoch: vu.epoch,
      startMs: vu.run.startMs,
    };
    const seq = ++this.seq;
    const msg: Down = { t: 'call', seq, fn, ctx, sameData: false, wantValue };
    const env = JSON.stringify(vu.env);
    if (env !== this.lastEnv) {
      this.lastEnv = env;
      msg.env = vu.env;
    }
    // setup()'s data goes over once; the worker keeps its copy for the VU's iterations.
    if (!wantValue && this.lastData !== undefined && this.lastData.value === data) msg.sameData = true;
    else msg.data = data;
    if (!wantValue) this.lastData = { value: data };
    return new Promise((resolve, reject) => {
      this.calls.set(seq, { resolve, reject });
      this.worker.postMessage(msg);
    });
  }

  private handle(m: Up): void {
    const vu = this.vu!;
    const k6 = this.k6!;
    const run = vu.run;
    switch (m.t) {
      case 'check':
        k6.core.check(null, { [m.name]: m.ok }, m.tags);
        return;
      case 'group-in': {
        this.groups.push(vu.groupPath);
        const path = `${vu.groupPath}::${m.name}`;
        run.group(path);
        vu.groupPath = path;
        return;
      }
      case 'group-out': {
        const path = vu.groupPath;
        vu.groupPath = this.groups.pop() ?? '';
        const t = vu.sampleTags();
        t.group = path;
        run.registry.add(run.m.group_duration, m.ms, t);
        return;
      }
      case 'define': {
        if (this.metrics.has(m.name)) return;
        const Type = { counter: k6.metrics.Counter, gauge: k6.metrics.Gauge, rate: k6.metrics.Rate, trend: k6.metrics.Trend }[m.type];
        this.metrics.set(m.name, new Type(m.name, m.isTime));
        return;
      }
      case 'add':
        this.metrics.get(m.name)?.add(m.value, m.tags);
        return;
      case 'tags':
        vu.tags = m.tags;
        return;
      case 'sync':
        this.perform(m.op, m.args).then(
          (value) => this.reply({ value }),
          (e: unknown) => this.reply({ error: toWire(e) }),
        );
        return;
      case 'async':
        this.perform(m.op, m.args).then(
          (value) => this.tell({ t: 'areply', id: m.id, value }),
          (e: unknown) => this.tell({ t: 'areply', id: m.id, error: toWire(e) }),
        );
        return;
      case 'post':
        if (m.op === 'history') k6.hook.recordHistory(m.args[0] as Parameters<typeof k6.hook.recordHistory>[0]);
        else if (m.op === 'responseCallback') {
          const ranges = m.args[0] as Array<[number, number]> | null;
          k6.http.setResponseCallback(ranges ? new ExpectedStatuses(ranges) : null);
        }
        return;
      case 'abort':
        run.stop(new Abort(m.reason, EXIT_SCRIPT_ABORTED));
        return;
      case 'error':
        vu.logError(fromWire(m.error));
        return;
      case 'done': {
        const c = this.calls.get(m.seq);
        if (!c) return;
        this.calls.delete(m.seq);
        if (m.error) c.reject(fromWire(m.error));
        else c.resolve(m.value);
        return;
      }
      case 'init-done':
        return;
    }
  }

  /** What a synchronous or async call from the worker asks the VU's modules for. */
  private async perform(op: string, args: unknown[]): Promise<unknown> {
    const vu = this.vu!;
    const http = this.k6!.http;
    switch (op) {
      case 'http': {
        const [method, url, body, params] = args as [string, unknown, unknown, unknown];
        return toWireResponse(await http.asyncRequest(method, url, body, this.unwireParams(params)));
      }
      case 'batch': {
        const items = args[0] as Array<[string, unknown, unknown, unknown]>;
        const responses = await Promise.all(items.map(([method, url, body, params]) => http.asyncRequest(method, url, body, this.unwireParams(params))));
        return responses.map((r: Response) => toWireResponse(r));
      }
      case 'exec':
        return live(vu, args[0] as string);
      case 'ws':
        return this.websocket(args);
      case 'grpc': {
        this.grpc ??= new GrpcClients(vu);
        const [what, id, a, b, c] = args as [string, number, unknown, unknown, unknown];
        if (what === 'connect') return this.grpc.connect(id, a as string, b as Record<string, unknown>, c as ProtoSource[]);
        if (what === 'invoke') return this.grpc.invoke(id, a as string, b, c as Record<string, unknown>);
        if (what === 'health') return this.grpc.healthCheck(id, a as string);
        return this.grpc.close(id);
      }
      case 'jar': {
        const [id, method, ...rest] = args as [number, 'set' | 'cookiesForURL' | 'clear' | 'delete', ...unknown[]];
        const jar = this.jar(id);
        if (method === 'set') return jar.set(rest[0] as string, rest[1] as string, rest[2] as string, rest[3] as Record<string, unknown>);
        if (method === 'cookiesForURL') return jar.cookiesForURL(rest[0] as string);
        if (method === 'clear') return jar.clear(rest[0] as string);
        return jar.delete(rest[0] as string, rest[1] as string);
      }
      default:
        throw new Error(`the engine does not answer "${op}" (internal error)`);
    }
  }

  private websocket(args: unknown[]): unknown {
    this.ws ??= new WsSessions(this.vu!);
    const ws = this.ws;
    const [what, a, b] = args as [string, unknown, unknown];
    switch (what) {
      case 'open':
        return ws.open(a as string, b as Parameters<WsSessions['open']>[1]);
      case 'next':
        return ws.next(a as number, b as number);
      case 'send':
        return ws.send(a as number, b as string | ArrayBuffer);
      case 'ping':
        return ws.ping(a as number);
      case 'close':
        return ws.close(a as number, b as number);
      default:
        throw new Error(`the engine does not answer ws "${what}" (internal error)`);
    }
  }

  private jar(id: number): K6CookieJar {
    if (id === 0) return this.k6!.http.cookieJar();
    let j = this.jars.get(id);
    if (!j) this.jars.set(id, (j = new K6CookieJar()));
    return j;
  }

  private unwireParams(p: unknown): Params | null | undefined {
    if (p === null || p === undefined || typeof p !== 'object') return p as null | undefined;
    const out: Params = { ...(p as Params) };
    if (isWireExpected(out.responseCallback)) {
      const ranges = out.responseCallback.__expected;
      out.responseCallback = ranges ? new ExpectedStatuses(ranges) : null;
    }
    if (isWireJar(out.jar)) out.jar = this.jar(out.jar.__jar);
    return out;
  }

  private reply(answer: { value?: unknown; error?: unknown }): void {
    if (this.dead) return;
    this.down.postMessage(answer);
    Atomics.store(this.ctl, CTL.REPLY, 1);
    Atomics.notify(this.ctl, CTL.REPLY);
  }

  private tell(m: Down): void {
    if (!this.dead) this.worker.postMessage(m);
  }

  private die(e: Error): void {
    if (this.dead) return;
    const id = this.vu?.id ?? '?';
    const oom = (e as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
    this.dead = Object.assign(
      new UsageError(oom ? `VU ${id} ran out of memory (its heap is limited to ${WORKER_LIMITS.maxOldGenerationSizeMb} MB)` : `VU ${id} stopped: ${e.message}`),
      { fatal: true },
    );
    for (const c of this.calls.values()) c.reject(this.dead);
    this.calls.clear();
  }
}

function live(vu: VU, what: string): number {
  const run = vu.run;
  switch (what) {
    case 'progress':
      return vu.scenario?.progress() ?? 0;
    case 'vusActive':
      return run.vusActive;
    case 'vusInitialized':
      return run.vusInitialized;
    case 'iterationsCompleted':
      return run.iterationsCompleted;
    case 'iterationsInterrupted':
      return run.iterationsInterrupted;
    case 'currentTestRunDuration':
      return run.elapsedMs;
    default:
      return 0;
  }
}
