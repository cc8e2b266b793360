import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/base/errors.ts';
import { loadOverridesFrom } from '../../src/cli/commands/run.ts';
import { run as suite } from '../../src/cli/commands/suite.ts';

describe('--vus, --duration, --rate', () => {
  it('parse into load overrides, with durations in k6 units', () => {
    expect(loadOverridesFrom({ vus: '20', duration: '1m30s', rate: '500' })).toEqual({ vus: 20, durationMs: 90_000, ratePerSecond: 500 });
    expect(loadOverridesFrom({ profile: 'ci' })).toBeUndefined();
  });

  it('refuse values that make no run, naming the flag', () => {
    expect(() => loadOverridesFrom({ vus: '0' })).toThrow(/--vus must be an integer from 1/);
    expect(() => loadOverridesFrom({ rate: 'fast' })).toThrow(/--rate must be an integer/);
    expect(() => loadOverridesFrom({ duration: 'soon' })).toThrow(UsageError);
    expect(() => loadOverridesFrom({ duration: '0s' })).toThrow(/--duration must be longer than 0/);
  });

  it('suite refuses --rate before running anything: some of its scenarios are driven by VUs', async () => {
    await expect(suite(['--rate', '100'])).rejects.toThrow(/--rate is for `stateproof run`.*use --vus/);
  });
});
