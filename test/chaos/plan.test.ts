/** Fault-plan validation: bad plans are refused before anything starts, naming the entry. */
import { describe, expect, it } from 'vitest';
import { durationMs, validatePlan } from '../../chaos/plan.ts';
import { randomPlan } from '../../chaos/random-plan.ts';

const targets = { proxies: ['redis', 'redis-i2'], store: true, processes: ['i1', 'i2'] };
const latency = { type: 'latency', attributes: { latency: 100 } };

describe('fault plans', () => {
  it('parses durations in ms, s and m', () => {
    expect([durationMs(250), durationMs('250ms'), durationMs('1.5s'), durationMs('2m')]).toEqual([250, 250, 1500, 120_000]);
  });

  it('accepts a plan mixing all three families', () => {
    const plan = validatePlan(
      {
        seed: 3,
        faults: [
          { id: 'slow', at: '1s', duration: '2s', target: 'redis', fault: latency },
          { at: 0, duration: '1s', target: 'redis', fault: { type: 'bandwidth', stream: 'upstream', attributes: { rate: 10 } } },
          { at: '5s', duration: '1s', target: 'redis-server', fault: { type: 'pause_writes' } },
          { at: '7s', duration: 0, target: 'i1,i2', fault: { type: 'rolling_restart', schemaVersion: 2, gapMs: 100 } },
        ],
      },
      targets,
    );
    expect(plan.faults).toHaveLength(4);
  });

  it.each([
    [{ at: '1s', duration: -5, target: 'redis', fault: latency }, /faults\[0\] \(id "e"\)\.duration: must not be negative/],
    [{ at: '1s', duration: '1s', target: 'nope', fault: latency }, /faults\[0\] \(id "e"\): unknown proxy "nope"/],
    [{ at: '1s', duration: '1s', target: 'redis', fault: { type: 'latency', attributes: { latency: -1 } } }, /faults\[0\] \(id "e"\)\.fault\.attributes\.latency/],
    [{ at: '1s', duration: '1s', target: 'redis', fault: { type: 'earthquake' } }, /faults\[0\] \(id "e"\)\.fault\.type/],
    [{ at: '1s', duration: '1s', target: 'redis', fault: { type: 'oom' } }, /faults\[0\] \(id "e"\): a oom fault targets "redis-server"/],
    [{ at: '1s', duration: '1s', target: 'i9', fault: { type: 'kill9' } }, /unknown process "i9"/],
    [{ at: 'soon', duration: '1s', target: 'redis', fault: latency }, /faults\[0\] \(id "e"\)\.at/],
    [{ at: '1s', duration: 0, target: 'redis', fault: latency }, /needs a duration above 0/],
  ])('rejects a bad entry, naming it (%#)', (entry, message) => {
    expect(() => validatePlan({ faults: [{ id: 'e', ...entry }] }, targets)).toThrow(message);
  });

  it('rejects overlaps that make no sense and allows those that do', () => {
    const overlap = (a: object, b: object) => () => validatePlan({ faults: [{ at: 0, duration: '10s', ...a }, { at: '5s', duration: '10s', ...b }] }, targets);
    expect(overlap({ target: 'redis', fault: latency }, { id: 'again', target: 'redis', fault: latency })).toThrow(/faults\[1\] \(id "again"\) overlaps faults\[0\] on target "redis"/);
    expect(overlap({ target: 'redis', fault: { type: 'down' } }, { target: 'redis', fault: latency })).toThrow(/overlaps/);
    expect(overlap({ target: 'redis-server', fault: { type: 'oom' } }, { target: 'redis-server', fault: { type: 'stall' } })).toThrow(/overlaps/);
    expect(overlap({ target: 'i1', fault: { type: 'sigstop' } }, { target: 'i1,i2', fault: { type: 'rolling_restart' } })).toThrow(/overlaps/);
    // Different streams, different proxies, different processes: fine.
    expect(overlap({ target: 'redis', fault: latency }, { target: 'redis', fault: { ...latency, stream: 'upstream' } })).not.toThrow();
    expect(overlap({ target: 'redis', fault: latency }, { target: 'redis-i2', fault: latency })).not.toThrow();
    expect(overlap({ target: 'i1', fault: { type: 'sigstop' } }, { target: 'i2', fault: { type: 'kill9' } })).not.toThrow();
  });

  it('rejects unknown keys and duplicate ids', () => {
    expect(() => validatePlan({ faults: [{ at: 0, duration: 1, target: 'redis', fault: latency, when: 'now' }] }, targets)).toThrow(/faults\[0\]: Unrecognized key/);
    expect(() => validatePlan({ faults: [{ id: 'a', at: 0, duration: 1, target: 'redis', fault: latency }, { id: 'a', at: 10, duration: 1, target: 'redis-i2', fault: latency }] }, targets)).toThrow(/faults\[1\] \(id "a"\): duplicate id/);
  });

  it('a random plan is reproducible from its seed and always valid', () => {
    const opts = { runMs: 60_000, count: 5, proxies: ['redis'], store: true, processes: ['i1'] };
    const a = randomPlan({ seed: 42, ...opts });
    expect(randomPlan({ seed: 42, ...opts })).toEqual(a);
    expect(randomPlan({ seed: 43, ...opts })).not.toEqual(a);
    for (let seed = 0; seed < 50; seed++) expect(() => validatePlan(randomPlan({ seed, ...opts }), targets)).not.toThrow();
  });
});
