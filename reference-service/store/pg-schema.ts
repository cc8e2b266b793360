/**
 * The Postgres layout of the same data the Redis keys hold (keys.ts), and the compare-and-set append
 * as one function, so one statement (one transaction, committed inside the server) does what the
 * Redis Lua script does:
 *
 *   sp_sessions   key (the Redis key, sp:{tenant:id}:session) → the JSON envelope, its revision and
 *                 schemaVersion as columns (the schema guard reads them), expires_at (TTL)
 *   sp_turn_ids   (key, turn_id) → the revision it produced; deleted with its session (cascade)
 *
 * TTL: a row past expires_at is treated as absent by every read and by the append (which deletes
 * it, with its turn ids, as a Redis key and its index expire together); a periodic sweep removes the
 * rest.
 *
 * sp_cas_append(key, expected, value, turnId, ttlSeconds, maxSchemaVersion, keepTurnIds, deadlineMs, version)
 *   returns (status, revision, schema_version) with status as CAS_STATUS (cas-script.ts):
 *   replayed when the turn id is recorded; expired past the deadline (checked before the write, and
 *   again after it: past the deadline then, the function raises DEADLINE_SQLSTATE, so the transaction
 *   rolls back and a write the service has already answered 503 never lands); unsupported when the
 *   stored schemaVersion is above maxSchemaVersion; conflict when the revision is not `expected`
 *   (the row is locked FOR UPDATE, so concurrent appends on one revision serialise and all but one
 *   conflict); else applied, with `UPDATE … WHERE revision = expected`.
 */
export const DEADLINE_SQLSTATE = 'SPDL1';

/** One advisory lock around the DDL: instances starting together must not race CREATE TABLE. */
export const SCHEMA_LOCK_ID = 7_320_015;

/** Set as the function's comment; bump it when this file changes so running databases get the new DDL. */
export const SCHEMA_TAG = 'stateproof schema 1';

/**
 * True when the schema is in place at this SCHEMA_TAG: a catalog read, no table lock. Instances
 * (re)starting under traffic then skip the DDL, whose CREATE INDEX would queue behind every write
 * in flight and hold up every write after it.
 */
export const SCHEMA_PRESENT_SQL = `SELECT obj_description(to_regprocedure('sp_cas_append(text,bigint,text,text,int,int,int,bigint,int)'), 'pg_proc') = '${SCHEMA_TAG}'
  AND to_regclass('sp_turn_ids_revision') IS NOT NULL AND to_regclass('sp_sessions_expires_at') IS NOT NULL AS present`;

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS sp_sessions (
  key text PRIMARY KEY,
  value text NOT NULL,
  revision bigint NOT NULL,
  schema_version int NOT NULL,
  expires_at timestamptz
);
CREATE INDEX IF NOT EXISTS sp_sessions_expires_at ON sp_sessions (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS sp_turn_ids (
  key text NOT NULL REFERENCES sp_sessions (key) ON DELETE CASCADE,
  turn_id text NOT NULL,
  revision bigint NOT NULL,
  PRIMARY KEY (key, turn_id)
);
CREATE INDEX IF NOT EXISTS sp_turn_ids_revision ON sp_turn_ids (key, revision);

CREATE OR REPLACE FUNCTION sp_cas_append(
  p_key text, p_expected bigint, p_value text, p_turn_id text, p_ttl_s int,
  p_max_version int, p_keep int, p_deadline_ms bigint, p_version int
) RETURNS TABLE (status int, revision bigint, schema_version int) LANGUAGE plpgsql AS $fn$
DECLARE
  cur_revision bigint;
  cur_version int;
  applied bigint;
  expires timestamptz := CASE WHEN p_ttl_s > 0 THEN now() + make_interval(secs => p_ttl_s) END;
BEGIN
  DELETE FROM sp_sessions s WHERE s.key = p_key AND s.expires_at <= now();
  SELECT t.revision INTO applied FROM sp_turn_ids t WHERE t.key = p_key AND t.turn_id = p_turn_id;
  IF FOUND THEN RETURN QUERY SELECT 2, applied, 0; RETURN; END IF;
  IF p_deadline_ms > 0 AND (extract(epoch FROM clock_timestamp()) * 1000)::bigint > p_deadline_ms THEN
    RETURN QUERY SELECT 6, 0::bigint, 0; RETURN;
  END IF;
  SELECT s.revision, s.schema_version INTO cur_revision, cur_version FROM sp_sessions s WHERE s.key = p_key FOR UPDATE;
  IF FOUND THEN
    IF p_max_version > 0 AND cur_version > p_max_version THEN RETURN QUERY SELECT 4, cur_revision, cur_version; RETURN; END IF;
    IF cur_revision <> p_expected THEN RETURN QUERY SELECT 3, cur_revision, cur_version; RETURN; END IF;
    UPDATE sp_sessions s SET value = p_value, revision = p_expected + 1, schema_version = p_version, expires_at = expires
      WHERE s.key = p_key AND s.revision = p_expected;
  ELSE
    IF p_expected <> 0 THEN RETURN QUERY SELECT 3, 0::bigint, 0; RETURN; END IF;
    INSERT INTO sp_sessions (key, value, revision, schema_version, expires_at) VALUES (p_key, p_value, 1, p_version, expires)
      ON CONFLICT (key) DO NOTHING;
    IF NOT FOUND THEN
      -- A concurrent first append committed meanwhile.
      SELECT s.revision, s.schema_version INTO cur_revision, cur_version FROM sp_sessions s WHERE s.key = p_key;
      RETURN QUERY SELECT 3, coalesce(cur_revision, 0), coalesce(cur_version, 0); RETURN;
    END IF;
    cur_version := 0;
  END IF;
  INSERT INTO sp_turn_ids (key, turn_id, revision) VALUES (p_key, p_turn_id, p_expected + 1);
  IF p_keep > 0 THEN DELETE FROM sp_turn_ids t WHERE t.key = p_key AND t.revision <= p_expected + 1 - p_keep; END IF;
  IF p_deadline_ms > 0 AND (extract(epoch FROM clock_timestamp()) * 1000)::bigint > p_deadline_ms THEN
    RAISE EXCEPTION 'stateproof: the append passed its deadline; rolled back' USING ERRCODE = '${DEADLINE_SQLSTATE}';
  END IF;
  RETURN QUERY SELECT 1, p_expected + 1, coalesce(cur_version, 0);
END
$fn$;
COMMENT ON FUNCTION sp_cas_append(text, bigint, text, text, int, int, int, bigint, int) IS '${SCHEMA_TAG}';
`;
