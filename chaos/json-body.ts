/**
 * Decoding request bodies with the rules of Go's encoding/json as Toxiproxy uses it: unknown
 * keys are ignored, `null` leaves a field as it was, a wrong JSON type is a 400 that names the
 * field. One deliberate difference: negative or fractional attribute values are refused with 400
 * (Toxiproxy takes negatives silently and they make no sense for any toxic).
 */
import { apiErrors } from './api-errors.ts';
import type { AttributeKind } from './toxics/toxic.ts';

export function parseJson(text: string): unknown {
  if (text.trim() === '') throw apiErrors.badRequestBody('EOF');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw apiErrors.badRequestBody(`invalid character in JSON: ${(e as Error).message}`);
  }
}

function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : (typeof v as string);
}

/** The body must be a JSON object (or null, which Go decodes as "nothing"). */
export function asObject(v: unknown, goType: string): Record<string, unknown> {
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw apiErrors.badRequestBody(`json: cannot unmarshal ${jsonKind(v)} into Go value of type ${goType}`);
  return v as Record<string, unknown>;
}

type FieldKind = 'string' | 'bool' | 'number';

/** Field `key` of `obj` if present and not null, checked against its Go type. */
export function field<T>(obj: Record<string, unknown>, key: string, kind: FieldKind, goStruct: string): T | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  const ok = kind === 'string' ? typeof v === 'string' : kind === 'bool' ? typeof v === 'boolean' : typeof v === 'number';
  if (!ok) {
    const goType = kind === 'number' ? 'float32' : kind;
    throw apiErrors.badRequestBody(`json: cannot unmarshal ${jsonKind(v)} into Go struct field ${goStruct}.${key} of type ${goType}`);
  }
  return v as T;
}

/** Merge `attributes` from a body into `current`, validating each known attribute. */
export function mergeAttributes(
  current: Record<string, number>,
  raw: unknown,
  kinds: Record<string, AttributeKind>,
  goName: string,
): Record<string, number> {
  const next = { ...current };
  if (raw === undefined || raw === null) return next;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw apiErrors.badRequestBody(`json: cannot unmarshal ${jsonKind(raw)} into Go struct field ToxicWrapper.attributes of type toxics.${goName}`);
  }
  for (const [key, kind] of Object.entries(kinds)) {
    const v = (raw as Record<string, unknown>)[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number') {
      throw apiErrors.badRequestBody(`json: cannot unmarshal ${jsonKind(v)} into Go struct field ${goName}.attributes.${key} of type ${kind}`);
    }
    if (!Number.isSafeInteger(v)) {
      throw apiErrors.badRequestBody(`json: cannot unmarshal number ${v} into Go struct field ${goName}.attributes.${key} of type ${kind}`);
    }
    if (v < 0) throw apiErrors.badRequestBody(`attribute ${key} must not be negative, got ${v}`);
    next[key] = v;
  }
  return next;
}
