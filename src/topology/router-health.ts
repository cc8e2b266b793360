/**
 * Instance health as the router sees it. Passive: the forwarder marks an instance down the moment
 * a connect is refused or a response times out. Active: every `intervalMs` a GET of `path` on a
 * fresh connection brings an instance back (status below 500) or takes it out; the probe's answer
 * wins over a passive mark made while it was in flight.
 *
 * A timeout is evidence only when the instance has been silent: an overloaded instance queues the
 * probe behind its requests (a CPU-bound Node process answers /healthz in turn), and one that sent
 * response heads for other requests while the probe or request waited is alive, only slow. Such a
 * timeout leaves its state as it was; taking every slow instance out would turn overload into
 * `502 no_instance_available` with all of them running. A paused or hung instance answers nothing,
 * so its timeout still takes it out.
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
  /**
   * Takes the instance out. With `unlessAnsweredSince` (a timeout's start, from `now()`), only if
   * it sent no response head since then.
   */
  markDown(index: number, unlessAnsweredSince?: number): void;
  /** The forwarder got a response head from the instance: it is alive. */
  answered(index: number): void;
  /** The clock of `unlessAnsweredSince`. */
  now(): number;
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
  const lastAnswer = targets.map(() => -Infinity);
  const now = () => performance.now();
  const answeredSince = (index: number, since: number) => lastAnswer[index]! >= since;

  const probe = (index: number): void => {
    if (probing[index] || check.path === null) return;
    probing[index] = true;
    const startedAt = now();
    const done = (ok: boolean | 'slow') => {
      if (!probing[index]) return;
      probing[index] = false;
      if (ok === 'slow') {
        if (!answeredSince(index, startedAt)) up[index] = false;
        return;
      }
      up[index] = ok;
    };
    const target = targets[index]!;
    // A fresh connection each time: a pooled socket could hide that the process is gone.
    const r = http.get({ host: target.host, port: target.port, path: check.path, agent: false, timeout: check.timeoutMs }, (res) => {
      res.resume();
      done((res.statusCode ?? 500) < 500);
    });
    r.once('timeout', () => {
      done('slow');
      r.destroy(new Error('health check timed out'));
    });
    r.once('error', () => done(false));
  };
  const timer = check.path === null ? undefined : setInterval(() => targets.forEach((_, i) => probe(i)), check.intervalMs);
  timer?.unref();

  return {
    isUp: (index) => up[index]! && !held[index],
    markDown(index, unlessAnsweredSince) {
      if (unlessAnsweredSince !== undefined && answeredSince(index, unlessAnsweredSince)) return;
      up[index] = false;
    },
    answered(index) {
      lastAnswer[index] = now();
    },
    now,
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
