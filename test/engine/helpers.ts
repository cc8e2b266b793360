/** Scripted loopback servers on port 0 and throwaway k6 scripts for the engine's tests. */
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface TestServer {
  url: string;
  requests: number;
  close(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

export const ok: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"ok":true}');
};

export async function startServer(handler: Handler = ok): Promise<TestServer> {
  const state = { requests: 0 };
  const server = http.createServer((req, res) => {
    const n = ++state.requests;
    req.resume();
    req.on('end', () => handler(req, res, n));
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Writes a k6 script to a temp dir; returns its path and a cleanup. */
export function writeScript(source: string, name = 'script.ts'): { file: string; dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-engine-'));
  const file = path.join(dir, name);
  writeFileSync(file, source);
  return { file, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
