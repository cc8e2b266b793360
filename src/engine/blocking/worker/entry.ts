/**
 * A blocking VU's worker thread: compiles the script, runs its init code with the worker's k6
 * modules (its own module-level state, as a k6 VU has its own runtime), then runs each call the
 * host sends (an iteration, setup, teardown, handleSummary) and reports how it ended.
 *
 * Bundled with esbuild into one CommonJS file and started with `eval`, so a worker loads no
 * TypeScript loader and only the few modules it needs (its memory is the cost of a blocking VU).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { crypto } from '../../k6/crypto.ts';
import { encoding } from '../../k6/encoding.ts';
import { html, setHtmlParserPath } from '../../k6/html.ts';
import { UnsupportedFeatureError } from '../../k6/unsupported.ts';
import { CTL, toWire, type Down, type Up, type WorkerData } from '../protocol.ts';
import { Channel } from './channel.ts';
import { createCore, createExecution, createMetrics, createTimers } from './k6-core.ts';
import { createGrpc } from './k6-grpc.ts';
import { createHttp } from './k6-http.ts';
import { createWs } from './k6-ws.ts';

const PARAMS = ['require', 'module', 'exports', '__ENV', '__VU', '__stateproof_ctx', 'open', 'console', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'];

const data = workerData as WorkerData;
setHtmlParserPath(data.htmlParser);
const tags = { value: {} as Record<string, string> };
const ch = new Channel(data.ctl, data.up, data.down, () => tags.value);
const env = data.env;
const iterCtx = { iter: 0 };

const post = (m: Up) => ch.post(m);
const logError = (e: unknown) => post({ t: 'error', error: toWire(e) });

/** k6 logs console output to stderr with a level (stdout carries the summary). */
function line(level: string) {
  return (...args: unknown[]) => {
    const text = args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' ');
    const elapsed = ch.ctx.startMs ? (Date.now() - ch.ctx.startMs) / 1000 : 0;
    process.stderr.write(`${level}[${String(Math.round(elapsed)).padStart(4, '0')}] ${text}  source=console\n`);
  };
}
function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
const console = { log: line('INFO'), info: line('INFO'), debug: line('DEBU'), warn: line('WARN'), error: line('ERRO') };

const asModule = <T extends object>(m: T) => ({ __esModule: true, default: m, ...m });
const timers = createTimers(ch, logError);
const factories: Record<string, () => unknown> = {
  k6: () => asModule(createCore(ch)),
  'k6/http': () => asModule(createHttp(ch)),
  'k6/metrics': () => asModule(createMetrics(ch)),
  'k6/execution': () => asModule(createExecution(ch, data.vuId, data.options, tags)),
  'k6/timers': () => asModule({ setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout, setInterval: timers.setInterval, clearInterval: timers.clearInterval }),
  'k6/encoding': () => asModule(encoding),
  'k6/crypto': () => asModule(crypto),
  'k6/ws': () => asModule(createWs(ch)),
  'k6/html': () => asModule(html),
  'k6/net/grpc': () => asModule(createGrpc(ch, path.dirname(data.filename))),
};
const loaded = new Map<string, unknown>();
function require(name: string): unknown {
  let m = loaded.get(name);
  if (m === undefined) {
    const make = factories[name];
    if (make === undefined) throw new UnsupportedFeatureError(`module "${name}"`);
    m = make();
    loaded.set(name, m);
  }
  return m;
}

const dir = path.dirname(data.filename);
function open(file: string, mode?: string): string | ArrayBuffer {
  const buf = readFileSync(path.resolve(dir, file));
  return mode === 'b' ? buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) : buf.toString('utf8');
}

const module = { exports: {} as Record<string, unknown> };
function init(): Up {
  try {
    const factory = vm.compileFunction(data.code, PARAMS, { filename: data.filename });
    factory(require, module, module.exports, env, data.vuId, iterCtx, open, console, timers.setTimeout, timers.clearTimeout, timers.setInterval, timers.clearInterval);
    const exports = Object.keys(module.exports).filter((k) => typeof module.exports[k] === 'function');
    return { t: 'init-done', exports, options: plain(module.exports.options) };
  } catch (e) {
    return { t: 'init-done', error: toWire(e) };
  }
}

/** Options as data: what survives JSON is what k6 reads of them. */
function plain(v: unknown): unknown {
  if (v === undefined) return undefined;
  try {
    return structuredClone(v);
  } catch {
    return JSON.parse(JSON.stringify(v)) as unknown;
  }
}

const ctl = ch.ctl;
const initResult = init();
ch.inInit = false;
data.up.postMessage(initResult);
Atomics.store(ctl, CTL.INIT, 1);
Atomics.notify(ctl, CTL.INIT);

let setupData: unknown;
let lastEpoch = 0;

async function run(m: Extract<Down, { t: 'call' }>): Promise<void> {
  if (m.ctx.epoch !== lastEpoch) {
    // The last iteration was interrupted: what it left pending belongs to it.
    lastEpoch = m.ctx.epoch;
    timers.clearAll();
    ch.forgetPending();
  }
  ch.ctx = m.ctx;
  iterCtx.iter = m.ctx.iter;
  if (m.env) Object.assign(env, m.env);
  // Iterations share the VU's copy of setup()'s data (it is sent once); setup, teardown and
  // handleSummary get their own argument.
  if (!m.wantValue && !m.sameData) setupData = m.data;
  const arg = m.wantValue ? m.data : setupData;
  const fn = module.exports[m.fn] as (d: unknown) => unknown;
  let done: Up;
  try {
    let value = await fn(arg);
    await ch.drained();
    if (m.fn === 'setup' && value !== undefined) value = JSON.parse(JSON.stringify(value));
    done = m.wantValue ? { t: 'done', seq: m.seq, value } : { t: 'done', seq: m.seq };
  } catch (e) {
    done = { t: 'done', seq: m.seq, error: toWire(e) };
  }
  try {
    post(done);
  } catch (e) {
    post({ t: 'done', seq: m.seq, error: toWire(new Error(`${m.fn}() returned a value that cannot leave the VU: ${(e as Error).message}`)) });
  }
}

// One call at a time, in order: a VU runs one iteration after the other.
let queue = Promise.resolve();
parentPort!.on('message', (m: Down) => {
  if (m.t === 'areply') ch.answer(m.id, m.value, m.error);
  else if (m.t === 'call') queue = queue.then(() => run(m));
});
