/** The breaker-state timeline: each instance's /metrics sampled once a second while the load runs. */
import type { BreakerSample } from '../report/derive/state-health.ts';
import { breakerState, scrapeMetrics } from './scrape.ts';
import type { Endpoint } from './witnesses.ts';

const SAMPLE_EVERY_MS = 1000;
const SAMPLE_TIMEOUT_MS = 800;

export interface BreakerSampler {
  readonly samples: BreakerSample[];
  stop(): void;
}

export function startBreakerSampler(endpoints: readonly Endpoint[], startedAtMs: number): BreakerSampler {
  const samples: BreakerSample[] = [];
  const timer = setInterval(() => {
    for (const i of endpoints) {
      void scrapeMetrics(i.url, SAMPLE_TIMEOUT_MS).then((text) => {
        const state = breakerState(text);
        if (state !== undefined) samples.push({ offsetMs: Date.now() - startedAtMs, instance: i.id, state });
      });
    }
  }, SAMPLE_EVERY_MS);
  return { samples, stop: () => clearInterval(timer) };
}
