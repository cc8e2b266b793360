/**
 * Tenant isolation: the bearer token names a tenant, and one tenant never sees another's state.
 * Scenarios with two tenants write sessions under both (some with the same ids, some with ids that
 * differ only in case) and read each other's ids. A leak is:
 *  - a read under tenant B whose window holds a turn id that only tenant A ever appended;
 *  - a read under B answering 200 with turns for a session id B never wrote, while another tenant did.
 */
import type { HistoryEntry } from '../record/history.ts';
import type { Anomaly } from './types.ts';

export interface TenantIsolationResult {
  anomalies: Anomaly[];
  tenants: number;
  /** Reads under one tenant of a session id another tenant wrote (the evidence). */
  crossReads: number;
}

/** Entries without a tenant belong to the scenario's own (first) tenant. */
const FIRST = '(first tenant)';
const tenantOf = (e: HistoryEntry) => e.tenant ?? FIRST;

export function checkTenantIsolation(history: readonly HistoryEntry[]): TenantIsolationResult {
  const crossTenant = crossTenantReads(history);
  // Only turn ids some cross-tenant read's window holds can prove a leak: their writers are all
  // that is indexed (at millions of appends, an index of every turn id is most of the check's memory).
  const shown = new Set<string>();
  for (const e of history) if (e.turnIds !== undefined && crossTenant(e)) for (const id of e.turnIds) shown.add(id);
  const writerOfTurn = new Map<string, Set<string>>(); // turnId -> tenants that appended it
  const ownSessions = new Set<string>(); // `${tenant}\0${exact session id}`
  const tenants = new Set<string>();
  for (const e of history) {
    const tenant = tenantOf(e);
    tenants.add(tenant);
    if (e.op !== 'append' || e.outcome === 'fail') continue;
    ownSessions.add(`${tenant}\0${e.session}`);
    if (e.turnId !== undefined && shown.has(e.turnId)) add(writerOfTurn, e.turnId, tenant);
  }
  const anomalies: Anomaly[] = [];
  let crossReads = 0;
  const reported = new Set<string>();
  for (const e of history) {
    if (!crossTenant(e)) continue;
    crossReads++;
    const tenant = tenantOf(e);
    const key = `${tenant}/${e.session}`;
    if (reported.has(key)) continue;
    const foreign = (e.turnIds ?? []).find((id) => {
      const by = writerOfTurn.get(id);
      return by !== undefined && !by.has(tenant);
    });
    if (foreign !== undefined) {
      reported.add(key);
      const owner = [...writerOfTurn.get(foreign)!][0];
      anomalies.push({ type: 'tenant-leak', session: key, message: `tenant ${tenant} read session ${e.session} (op ${e.id}) and saw turn ${foreign}, which only tenant ${owner} appended`, ops: [e.id] });
    } else if (e.status === 200 && ((e.turnCount ?? 0) > 0 || (e.turnIds?.length ?? 0) > 0) && !ownSessions.has(`${tenant}\0${e.session}`)) {
      // An empty answer (a degraded read's default context, say) shows nothing of anyone's.
      reported.add(key);
      anomalies.push({ type: 'tenant-visible', session: key, message: `tenant ${tenant} never wrote session ${e.session}, yet reading it answered 200 (op ${e.id}); another tenant's session of that id (or a case variant) must be invisible (404)`, ops: [e.id] });
    }
  }
  return { anomalies, tenants: tenants.size, crossReads };
}

/**
 * The reads checkTenantIsolation looks into the windows of: reads of a session id another tenant
 * also wrote (keyed by the lower-cased id, so a read of a case variant of another tenant's id
 * counts too). Decided over any part of a history that holds every entry of each session id it
 * holds (a partition), so a partitioned check keeps just these windows in its slim copy.
 */
export function crossTenantReads(part: readonly HistoryEntry[]): (e: HistoryEntry) => boolean {
  const writersOfSession = new Map<string, Set<string>>();
  for (const e of part) if (e.op === 'append' && e.outcome !== 'fail') add(writersOfSession, e.session.toLowerCase(), tenantOf(e));
  return (e) => {
    if (e.op !== 'read' || e.outcome !== 'ok') return false;
    const writers = writersOfSession.get(e.session.toLowerCase());
    const tenant = tenantOf(e);
    return writers !== undefined && [...writers].some((t) => t !== tenant);
  };
}

function add(m: Map<string, Set<string>>, k: string, v: string): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}
