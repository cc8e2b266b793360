/**
 * Migrate-on-read: a chain of pure migrators v1→v2→v3 over stored data, then the target version's
 * decoder. With migrations off the instance "assumes its own version": it decodes whatever it finds
 * with its own decoder, so older data fails to parse and newer data is read lossily (and clobbered
 * on the next write).
 */
import { decodeV1, encodeV1, isV1Data, type V1Data } from './v1.ts';
import { decodeV2, encodeV2, type V2Data } from './v2.ts';
import { decodeV3, encodeV3, type V3Data } from './v3.ts';
import { summaryText, type SessionState } from './state.ts';
import type { Envelope } from './envelope.ts';

export const LATEST = 3;

const decoders: Record<number, (d: unknown) => SessionState> = { 1: decodeV1, 2: decodeV2, 3: decodeV3 };
const encoders: Record<number, (s: SessionState) => unknown> = { 1: encodeV1, 2: encodeV2, 3: encodeV3 };

export function migrateV1toV2(d: V1Data): V2Data {
  const turns: V2Data['turns'] = [];
  for (let i = 0; i + 1 < d.messages.length; i += 2) {
    turns.push({ turnId: d.messages[i]!.turnId, user: d.messages[i]!.content, assistant: d.messages[i + 1]!.content });
  }
  return { turns, turnCount: d.compacted + turns.length, summary: { compactedTurns: d.compacted, pinned: [...d.pinned] } };
}

/** Timestamps v2 did not keep become 0 ("unknown"), so the migrator stays pure (no clock). */
export function migrateV2toV3(d: V2Data): V3Data {
  return {
    turns: d.turns.map((t) => ({ turnId: t.turnId, user: t.user, assistant: t.assistant, atMs: 0 })),
    turnCount: d.turnCount,
    summary: { compactedTurns: d.summary.compactedTurns, pinned: [...d.summary.pinned], text: summaryText(d.summary.compactedTurns, d.summary.pinned) },
    createdAtMs: 0,
    updatedAtMs: 0,
  };
}

/** migrators[n] takes version n data to version n+1. */
export const migrators: Record<number, (d: never) => unknown> = { 1: migrateV1toV2, 2: migrateV2toV3 };

export class UnsupportedSchemaError extends Error {
  override name = 'UnsupportedSchemaError';
  constructor(readonly storedVersion: number, readonly instanceVersion: number) {
    super(`stored state has schemaVersion ${storedVersion}; this instance knows up to ${instanceVersion}`);
  }
}

export interface Decoded {
  state: SessionState;
  /** The version found in the store. */
  storedVersion: number;
  /** True when migrators ran (the next write stores the target version). */
  migrated: boolean;
}

export function decodeAt(env: Envelope, targetVersion: number, migrationsOn: boolean): Decoded {
  const stored = env.schemaVersion;
  if (!migrationsOn || stored === targetVersion) {
    return { state: decoders[targetVersion]!(env.data), storedVersion: stored, migrated: false };
  }
  if (stored > targetVersion || decoders[stored] === undefined) throw new UnsupportedSchemaError(stored, targetVersion);
  let data: unknown = env.data;
  if (stored === 1 && !isV1Data(data)) decodeV1(data); // throws the shape error before migrating garbage
  for (let v = stored; v < targetVersion; v++) data = (migrators[v] as (d: unknown) => unknown)(data);
  return { state: decoders[targetVersion]!(data), storedVersion: stored, migrated: true };
}

export function encodeAt(state: SessionState, version: number): unknown {
  return encoders[version]!(state);
}

/** Any known version, migrated to the latest: for store snapshots (checkers, scenarios). Throws on newer. */
export function decodeAnyVersion(env: Envelope): SessionState {
  return decodeAt(env, LATEST, true).state;
}
