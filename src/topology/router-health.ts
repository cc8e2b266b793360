/**
 * Instance health as the router sees it. Passive: the forwarder marks an instance down the moment
 * a connect is refused or a response times out. Active: every `intervalMs` a GET of `path` on a
 * fresh connection brings an instance back (status below 500) or takes it out; the probe's answer
 * wins over a passive mark made while it was in flight.
 */
import http from 'node:http';

export interface HealthTarget {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

export interface HealthCheck {
  /** null turns the active checks off; passive marks still apply and are then final. */
  path: string | null;
  intervalMs: number;
  timeoutMs: number;
}

export interface InstanceHealth {
  isUp(index: number): boolean;
  markDown(index: number): void;
  /**
   * Out of rotation whatever the probes say, until released: an instance being drained for a
   * restart still answers its health check, and a probe must not bring it back mid-drain.
   */
  hold(index: number, held: boolean): void;
  /** Instance id → up. */
  snapshot(): Record<string, boolean>;
  /** `i1=up, i2=down`, for error messages. */
  describe(): string;
  /** Stops the active checks. */
  stop(): void;
}

export function trackHealth(targets: readonly HealthTarget[], check: HealthCheck): InstanceHealth {
  // Every instance starts up: the first request or probe finds out otherwise.
  const up = targets.map(() => true);
  const probing = targets.map(() => false);
  const held = targets.map(() => false);

  const probe = (index: number): void => {
    if (probing[index] || check.path === null) return;
    probing[index] = true;
    const done = (ok: boolean) => {
      if (!probing[index]) return;
      probing[index] = false;
      up[index] = ok;
    };
    const target = targets[index]!;
    // A fresh connection each time: a pooled socket could hide that the process is gone.
    const r = http.get({ host: target.host, port: target.port, path: check.path, agent: false, timeout: check.timeoutMs }, (res) => {
      res.resume();
      done((res.statusCode ?? 500) < 500);
    });
    r.once('timeout', () => r.destroy(new Error('health check timed out')));
    r.once('error', () => done(false));
  };
  const timer = check.path === null ? undefined : setInterval(() => targets.forEach((_, i) => probe(i)), check.intervalMs);
  timer?.unref();

  return {
    isUp: (index) => up[index]! && !held[index],
    markDown(index) {
      up[index] = false;
    },
    hold(index, h) {
      held[index] = h;
    },
    snapshot: () => Object.fromEntries(targets.map((t, i) => [t.id, up[i]! && !held[i]])),
    describe: () => targets.map((t, i) => `${t.id}=${held[i] ? 'draining' : up[i] ? 'up' : 'down'}`).join(', '),
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
