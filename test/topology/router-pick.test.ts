import { describe, expect, it } from 'vitest';
import { createPicker } from '../../src/topology/router-pick.ts';
import { HashRing } from '../../src/topology/hash-ring.ts';

const IDS = ['i1', 'i2', 'i3'];
const all = () => true;
const sequence = (n: number, next: () => number) => Array.from({ length: n }, next);

describe('router pick', () => {
  it('round-robin goes in turn over all instances, stepping over an unusable one', () => {
    const picker = createPicker('round-robin', IDS, 1);
    expect(sequence(6, () => picker.pick(undefined, all))).toEqual([0, 1, 2, 0, 1, 2]);
    const notI2 = (i: number) => i !== 1;
    expect(sequence(4, () => picker.pick(undefined, notI2))).toEqual([0, 2, 0, 2]);
    expect(sequence(3, () => picker.pick(undefined, all))).toEqual([0, 1, 2]);
  });

  it('round-robin answers -1 when nothing is usable and then carries on where it was', () => {
    const picker = createPicker('round-robin', IDS, 1);
    expect(picker.pick(undefined, all)).toBe(0);
    expect(picker.pick(undefined, () => false)).toBe(-1);
    expect(picker.pick(undefined, all)).toBe(1);
  });

  it('sticky sends a session to its ring owner, the next usable one when the owner is not, and back', () => {
    const picker = createPicker('sticky', IDS, 1);
    const ring = new HashRing(IDS);
    for (let k = 0; k < 50; k++) {
      const session = `s${k}`;
      const owner = ring.lookup(session);
      expect(picker.pick(session, all)).toBe(owner);
      expect(picker.pick(session, all)).toBe(owner);
      const moved = picker.pick(session, (i) => i !== owner);
      expect(moved).not.toBe(owner);
      expect(moved).toBe(ring.lookup(session, (i) => i !== owner));
      expect(picker.pick(session, all)).toBe(owner);
    }
    expect(picker.pick('s0', () => false)).toBe(-1);
  });

  it('sticky without a session id goes round-robin', () => {
    const picker = createPicker('sticky', IDS, 1);
    expect(sequence(4, () => picker.pick(undefined, all))).toEqual([0, 1, 2, 0]);
  });

  it('random is reproducible from its seed, differs across seeds and picks only usable instances', () => {
    const run = (seed: number, usable: (i: number) => boolean = all) => {
      const picker = createPicker('random', IDS, seed);
      return sequence(60, () => picker.pick('same-session', usable));
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
    expect(new Set(run(7))).toEqual(new Set([0, 1, 2]));
    expect(new Set(run(7, (i) => i !== 0))).toEqual(new Set([1, 2]));
    expect(createPicker('random', IDS, 7).pick(undefined, () => false)).toBe(-1);
  });

  it('owner is the ring owner whatever the policy', () => {
    const ring = new HashRing(IDS);
    for (const policy of ['sticky', 'round-robin', 'random'] as const) {
      const picker = createPicker(policy, IDS, 1);
      for (let k = 0; k < 20; k++) {
        expect(picker.owner(`s${k}`, all)).toBe(ring.lookup(`s${k}`));
        expect(picker.owner(`s${k}`, (i) => i === 2)).toBe(2);
      }
      expect(picker.owner('s0', () => false)).toBe(-1);
    }
  });
});
