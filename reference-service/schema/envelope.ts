/**
 * The versioned state envelope stored at `sp:{<tenant>:<id>}:session`:
 *
 *   {"schemaVersion":n,"revision":n,"data":{...}}
 *
 * Key order is fixed: the compare-and-set Lua script reads schemaVersion and revision from the
 * prefix without decoding the whole value.
 */
import { isObj, isCount } from './state.ts';

export interface Envelope {
  schemaVersion: number;
  revision: number;
  data: unknown;
}

export class CorruptStateError extends Error {
  override name = 'CorruptStateError';
}

/** Parses a stored value; throws CorruptStateError when it is not an envelope. For D/lead snapshots too. */
export function parseEnvelope(raw: string): Envelope {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new CorruptStateError('stored state is not JSON', { cause: e });
  }
  if (!isObj(v) || !Number.isInteger(v.schemaVersion) || (v.schemaVersion as number) < 1 || !isCount(v.revision) || !isObj(v.data)) {
    throw new CorruptStateError('stored state is not an envelope {schemaVersion, revision, data}');
  }
  return { schemaVersion: v.schemaVersion as number, revision: v.revision, data: v.data };
}

export function encodeEnvelope(schemaVersion: number, revision: number, data: unknown): string {
  return `{"schemaVersion":${schemaVersion},"revision":${revision},"data":${JSON.stringify(data)}}`;
}
