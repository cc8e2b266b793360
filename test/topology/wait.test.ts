import { describe, expect, it } from 'vitest';
import { Wait, waitUntilReady, type WaitTarget } from '../../src/topology/wait.ts';
import { freePort } from '../../src/topology/ports.ts';
import { fakeClock } from '../helpers/fake-clock.ts';

const silentTarget = (name: string): WaitTarget => ({
  name,
  onLine: () => () => {},
  exited: new Promise(() => {}),
  logTail: () => 'booting…',
});

describe('wait strategies with an injected clock', () => {
  it('an HTTP probe that never answers times out on the clock, and says what and how long', async () => {
    const clock = fakeClock({ autoAdvance: true }); // a 20 s timeout takes no real time
    const port = await freePort(); // nothing listens there: every probe is refused
    const started = Date.now();
    const err = await waitUntilReady(silentTarget('svc'), Wait.forHttp(`http://127.0.0.1:${port}/healthz`, { timeoutMs: 20_000, intervalMs: 500 }), clock).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(new RegExp(`svc was not ready: waited 20000 ms for GET http://127.0.0.1:${port}/healthz to answer 2xx \\(last: .*ECONNREFUSED.*\\)`));
    expect((err as Error).message).toContain('booting…');
    expect(clock.slept).toBeGreaterThanOrEqual(20_000);
    expect(Date.now() - started).toBeLessThan(15_000); // real time: only the refused connects
  });

  it('a log line that never comes times out on the clock', async () => {
    const clock = fakeClock({ autoAdvance: true });
    const err = await waitUntilReady(silentTarget('redis'), Wait.forLogLine(/Ready/, { timeoutMs: 7_000 }), clock).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/redis was not ready: waited 7000 ms for a log line matching \/Ready\/ on stdout or stderr/);
  });
});
