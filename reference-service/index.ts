/** Public surface of the reference service for the harness (topology, scenarios, checkers). */
export { startService, type ServiceHandle } from './service.ts';
export { DEFAULTS, DEFAULT_TOKENS, SAFEGUARDS, LATEST_SCHEMA_VERSION, resolveConfig, type ServiceConfig, type Safeguard } from './config.ts';
export { PROBLEMS, type ProblemCode } from './errors.ts';
export { sessionKey, turnIdsKey } from './store/keys.ts';
export { parseEnvelope, encodeEnvelope, CorruptStateError, type Envelope } from './schema/envelope.ts';
export { encodeV1Session } from './schema/v1.ts';
export { decodeAt, decodeAnyVersion, migrateV1toV2, migrateV2toV3, UnsupportedSchemaError } from './schema/migrate.ts';
export type { SessionState, Turn } from './schema/state.ts';
