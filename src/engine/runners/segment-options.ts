/**
 * How a runner asks the built-in engine for its execution segment. The segment flags live in the
 * engine (--execution-segment, --execution-segment-sequence); until the engine takes them, a
 * runner runs the whole load and says so.
 */
import type { RunScriptOptions } from '../types.ts';

export function segmentOptions(segment: string, sequence: string): Partial<RunScriptOptions> {
  void segment;
  void sequence;
  return {};
}
