/** Listen and upstream addresses as Toxiproxy writes them: "host:port" or "[v6]:port". */
export interface HostPort {
  host: string;
  port: number;
}

/** "host:port" or "[v6]:port"; an empty or "localhost" host means `defaultHost`. */
export function splitHostPort(address: string, defaultHost: string): HostPort | undefined {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d{1,5})$/.exec(address.trim());
  if (!m) return address.trim() === '' ? { host: defaultHost, port: 0 } : undefined;
  let host = m[1] ?? m[2] ?? '';
  if (host === '' || host === 'localhost') host = defaultHost;
  const port = Number(m[3]);
  return port <= 65535 ? { host, port } : undefined;
}

export function joinHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
