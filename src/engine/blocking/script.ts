/**
 * A script whose VUs block (see ./classify.ts): each VU is a worker thread (./host.ts) running its
 * own copy of the script. Same surface as ../script.ts's Script, plus prestart() (workers boot in
 * parallel, ahead of the VUs that will take them) and close() (every worker ends with the run).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import type { Bundle } from '../bundle.ts';
import type { ScriptExports, VU } from '../vu.ts';
import { BlockingHost } from './host.ts';
import { CTL } from './protocol.ts';

const ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker', 'entry.ts');
let runtime: Promise<string> | undefined;

/**
 * If the runtime itself fails to load, the host (blocked waiting for the init result) must still
 * hear of it: the same answer a failing init code gives.
 */
const LOAD_FAILED = `catch (e) {
  const { workerData } = require('node:worker_threads');
  workerData.up.postMessage({ t: 'init-done', error: { name: String(e && e.name), message: 'the VU runtime failed to load: ' + String(e && e.message), stack: e && e.stack } });
  const ctl = new Int32Array(workerData.ctl);
  Atomics.store(ctl, ${CTL.INIT}, 1);
  Atomics.notify(ctl, ${CTL.INIT});
}`;

/** The worker's code, bundled once per process into one script (no TypeScript loader in the worker). */
export function workerRuntime(): Promise<string> {
  runtime ??= esbuild
    .build({
      entryPoints: [ENTRY], bundle: true, platform: 'node', format: 'iife', target: 'node20', write: false, logLevel: 'silent',
      minifyWhitespace: true, banner: { js: 'try {' }, footer: { js: `} ${LOAD_FAILED}` },
    })
    .then((r) => r.outputFiles[0]!.text);
  return runtime;
}

export class BlockingScript {
  private readonly hosts: BlockingHost[] = [];
  private readonly ready = new Map<number, BlockingHost>();

  private constructor(
    private readonly bundle: Bundle,
    private readonly runtime: string,
  ) {}

  static async load(bundle: Bundle): Promise<BlockingScript> {
    if (bundle.target !== 'node') throw new Error('the built-in engine runs node-target bundles');
    return new BlockingScript(bundle, await workerRuntime());
  }

  /** Starts the workers of VUs `ids` now, so they boot together rather than one after the other. */
  prestart(ids: number[], env: Record<string, string>, options: Record<string, unknown>): void {
    for (const id of ids) if (!this.ready.has(id)) this.ready.set(id, this.start(id, env, options));
  }

  instantiate(vu: VU, env: Record<string, string>): ScriptExports {
    let host = this.ready.get(vu.id);
    this.ready.delete(vu.id);
    host ??= this.start(vu.id, env, vu.run.options);
    vu.env = env;
    return host.bind(vu);
  }

  async close(): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.terminate()));
    this.hosts.length = 0;
    this.ready.clear();
  }

  private start(vuId: number, env: Record<string, string>, options: Record<string, unknown>): BlockingHost {
    const host = new BlockingHost(this.runtime, { code: this.bundle.code, filename: this.bundle.sourcePath, vuId, env, options });
    this.hosts.push(host);
    return host;
  }
}
