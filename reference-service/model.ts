/**
 * The simulated model: a deterministic reply built from the context (window + summary), after a
 * latency drawn uniformly from the configured range. No network.
 */
import type { LatencyRange } from './config.ts';
import type { SessionState } from './schema/state.ts';

export type Model = (context: SessionState, user: string) => Promise<string> | string;

export function replyFor(context: SessionState, user: string): string {
  return `Noted (${user.length} chars). Context: ${context.turns.length} recent turns, ${context.pinned.length} pinned facts, ${context.turnCount} turns in all.`;
}

export function createModel(latency: LatencyRange, random: () => number = Math.random): Model {
  if (latency.maxMs <= 0) return replyFor;
  return (context, user) => {
    const ms = latency.minMs + (latency.maxMs - latency.minMs) * random();
    return new Promise((resolve) => setTimeout(() => resolve(replyFor(context, user)), ms));
  };
}
