/**
 * `k6/net/grpc` inside a blocking VU's worker: a Client whose connect, invoke and healthCheck
 * block the VU while the host (../grpc-host.ts) makes the call. load() runs in the init context
 * as k6 requires: it checks the .proto files are there and keeps their paths; the host parses
 * them when the client connects. Streams and protosets are refused, naming themselves.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { unsupported } from '../../k6/unsupported.ts';
import type { ProtoSource } from '../grpc-host.ts';
import type { Channel } from './channel.ts';

/** gRPC status codes by k6's constant names. */
const STATUS = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated',
];

export function createGrpc(ch: Channel, scriptDir: string) {
  let nextId = 1;
  class Client {
    private readonly id = nextId++;
    private readonly protos: ProtoSource[] = [];

    load(importPaths: string[] | null, ...files: string[]): unknown[] {
      const dirs = (importPaths && importPaths.length ? importPaths : ['.']).map((p) => path.resolve(scriptDir, p));
      for (const f of files) {
        if (!dirs.some((d) => existsSync(path.resolve(d, f)))) throw new Error(`could not find file "${f}" (looked in ${dirs.join(', ')})`);
      }
      this.protos.push({ importPaths: dirs, files: files.map((f) => dirs.map((d) => path.resolve(d, f)).find((p) => existsSync(p))!) });
      return [];
    }

    loadProtoset(): never {
      return unsupported('k6/net/grpc Client.loadProtoset()')();
    }

    connect(address: string, params?: Record<string, unknown> | null): boolean {
      return ch.call('grpc', 'connect', this.id, address, params ?? {}, this.protos) as boolean;
    }

    invoke(method: string, request: unknown, params?: Record<string, unknown> | null): unknown {
      return ch.call('grpc', 'invoke', this.id, method, request, params ?? {});
    }

    asyncInvoke(method: string, request: unknown, params?: Record<string, unknown> | null): Promise<unknown> {
      return ch.callAsync('grpc', 'invoke', this.id, method, request, params ?? {});
    }

    healthCheck(service?: string): unknown {
      return ch.call('grpc', 'health', this.id, service ?? '');
    }

    close(): void {
      ch.call('grpc', 'close', this.id);
    }
  }
  const constants = Object.fromEntries(STATUS.map((name, code) => [`Status${name}`, code]));
  return {
    Client,
    Stream: class {
      constructor() {
        unsupported('k6/net/grpc Stream (streaming RPCs)')();
      }
    },
    ...constants,
    HealthCheckUnknown: 0,
    HealthCheckServing: 1,
    HealthCheckNotServing: 2,
    HealthCheckServiceUnknown: 3,
  };
}
