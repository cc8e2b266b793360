/**
 * k6/net/grpc on the main thread, for a blocking VU: each Client's channel (@grpc/grpc-js), its
 * methods from the .proto files it loaded (@grpc/proto-loader, with protojson's field names and
 * defaults, as k6 shows messages), unary invoke and the standard health check, and k6's
 * grpc_req_duration tagged url (address + method), service, method, name and status.
 *
 * Not here: server reflection (connect's `reflect: true` is refused once the channel is up, as
 * k6 only asks for it then) and streams (grpc.Stream is refused in the worker).
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { UnsupportedFeatureError } from '../k6/unsupported.ts';
import { parseDurationMs } from '../duration.ts';
import type { Metric, Tags } from '../metrics/registry.ts';
import type { VU } from '../vu.ts';

export interface ProtoSource {
  importPaths: string[];
  files: string[];
}

interface Method {
  path: string;
  serialize: (v: unknown) => Buffer;
  deserialize: (b: Buffer) => unknown;
  streaming: boolean;
}

interface Conn {
  client: grpc.Client;
  address: string;
  methods: Map<string, Method>;
}

/** protojson's view of a message (k6: EmitUnpopulated, JSON names, int64 and enums as strings). */
const LOADER_OPTIONS: protoLoader.Options = { keepCase: false, longs: String, enums: String, bytes: String, defaults: true, arrays: true, objects: true, oneofs: true };

const HEALTH = protoLoader.fromJSON(
  {
    nested: {
      grpc: { nested: { health: { nested: { v1: { nested: {
        HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
        HealthCheckResponse: { fields: { status: { type: 'ServingStatus', id: 1 } }, nested: { ServingStatus: { values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } } } },
        Health: { methods: { Check: { requestType: 'HealthCheckRequest', responseType: 'HealthCheckResponse', comment: '' } } },
      } } } } } },
    },
  },
  { ...LOADER_OPTIONS, enums: Number },
);

function methodsOf(def: protoLoader.PackageDefinition, into: Map<string, Method>): void {
  for (const value of Object.values(def)) {
    if (typeof value !== 'object' || value === null || 'format' in value) continue;
    for (const m of Object.values(value as Record<string, protoLoader.MethodDefinition<unknown, unknown>>)) {
      if (!m || typeof m.path !== 'string') continue;
      into.set(m.path, { path: m.path, serialize: m.requestSerialize as (v: unknown) => Buffer, deserialize: m.responseDeserialize, streaming: m.requestStream || m.responseStream });
    }
  }
}

const metadataObject = (md: grpc.Metadata | undefined): Record<string, string[]> =>
  Object.fromEntries(Object.entries(md?.getMap() ?? {}).map(([k, v]) => [k, [String(v)]]));

export class GrpcClients {
  private readonly conns = new Map<number, Conn>();
  private readonly duration: Metric;

  constructor(private readonly vu: VU) {
    this.duration = vu.run.registry.define('grpc_req_duration', 'trend', 'time');
  }

  async connect(id: number, address: string, params: Record<string, unknown>, protos: ProtoSource[]): Promise<boolean> {
    this.close(id);
    const methods = new Map<string, Method>();
    for (const p of protos) methodsOf(protoLoader.loadSync(p.files, { ...LOADER_OPTIONS, includeDirs: p.importPaths }), methods);
    methodsOf(HEALTH, methods);
    const tls = this.vu.run.tls;
    const creds = params.plaintext === true ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(null, null, null, tls?.rejectUnauthorized === false ? { rejectUnauthorized: false } : {});
    const client = new grpc.Client(address, creds, params.authority ? { 'grpc.default_authority': String(params.authority) } : {});
    const timeoutMs = params.timeout === undefined ? 60_000 : parseDurationMs(params.timeout, 'grpc connect params.timeout');
    try {
      await ready(client, timeoutMs);
    } catch (e) {
      client.close();
      throw e;
    }
    this.conns.set(id, { client, address, methods });
    if (params.reflect === true) throw new UnsupportedFeatureError('k6/net/grpc server reflection (connect params.reflect)', 'load the .proto files with client.load(), or run the script with real k6 (--k6 <path>)');
    return true;
  }

  /** `untagged`: the health check, whose samples k6 tags with the VU's tags and status only. */
  invoke(id: number, method: string, message: unknown, params: Record<string, unknown>, untagged = false): Promise<unknown> {
    const conn = this.conns.get(id);
    if (!conn) throw new Error('no gRPC connection, you must call connect first');
    if (!method) throw new Error('method to invoke cannot be empty');
    const full = method.startsWith('/') ? method : `/${method}`;
    const m = conn.methods.get(full);
    if (!m) throw new Error(`method "${full}" not found in file descriptors`);
    if (m.streaming) throw new UnsupportedFeatureError(`invoke() of the streaming method ${full}`);
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries((params.metadata as Record<string, unknown> | undefined) ?? {})) md.set(k, String(v));
    const timeoutMs = params.timeout === undefined ? undefined : parseDurationMs(params.timeout, 'grpc invoke params.timeout');
    const [service, name] = full.slice(1).split('/') as [string, string];
    const paramTags = (params.tags as Record<string, string> | undefined) ?? {};
    const tags: Tags = untagged ? this.vu.sampleTags() : { ...this.vu.sampleTags(), ...paramTags, url: `${conn.address}${full}`, service, method: name };
    if (!untagged && tags.name === undefined) tags.name = full;
    const start = performance.now();
    return new Promise((resolve) => {
      let headers: grpc.Metadata | undefined;
      const call = conn.client.makeUnaryRequest(full, m.serialize, m.deserialize, message ?? {}, md, timeoutMs === undefined ? {} : { deadline: Date.now() + timeoutMs }, (err, value) => {
        const code = err ? (err.code ?? grpc.status.UNKNOWN) : grpc.status.OK;
        this.vu.run.registry.add(this.duration, performance.now() - start, { ...tags, status: String(code) });
        resolve({
          status: code,
          message: err ? m.deserialize(Buffer.alloc(0)) : value,
          headers: metadataObject(headers),
          trailers: metadataObject(err?.metadata ?? trailers),
          error: err ? { code, message: err.details, details: [] } : null,
        });
      });
      let trailers: grpc.Metadata | undefined;
      call.on('metadata', (h: grpc.Metadata) => (headers = h));
      call.on('status', (s: grpc.StatusObject) => (trailers = s.metadata));
    });
  }

  async healthCheck(id: number, service: string): Promise<{ status: number }> {
    const r = (await this.invoke(id, '/grpc.health.v1.Health/Check', { service }, {}, true)) as { status: number; message: { status: number } | null; error: { message: string } | null };
    if (r.error || !r.message) throw new Error(`health check failed: ${r.error?.message ?? 'no answer'}`);
    return { status: r.message.status };
  }

  close(id: number): void {
    this.conns.get(id)?.client.close();
    this.conns.delete(id);
  }

  closeAll(): void {
    for (const id of [...this.conns.keys()]) this.close(id);
  }
}

/**
 * Waits for the channel to connect. Like k6's dial (FailOnNonTempDialError), a refused
 * connection fails at once rather than being retried until the timeout.
 */
function ready(client: grpc.Client, timeoutMs: number): Promise<void> {
  const channel = client.getChannel();
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const state = channel.getConnectivityState(true);
      if (state === grpc.connectivityState.READY) return resolve();
      if (state === grpc.connectivityState.TRANSIENT_FAILURE || state === grpc.connectivityState.SHUTDOWN) {
        return reject(new Error(`connection error: the channel to ${channel.getTarget()} failed to connect`));
      }
      if (Date.now() >= deadline) return reject(new Error('context deadline exceeded'));
      channel.watchConnectivityState(state, deadline, () => check());
    };
    check();
  });
}
