import type { EngineResult, RunScriptOptions } from '../types.ts';
export async function runK6(_opts: RunScriptOptions): Promise<EngineResult> {
  throw new Error('not yet');
}
