/**
 * A second tenant as scenarios use it. With two or more tenants (STATEPROOF_TENANTS), a scenario
 * also writes under the second tenant, with session ids that collide with the first's (the same
 * id, and a case variant), and reads the first tenant's ids with the second's token; the
 * tenant-isolation checker holds every such read to "another tenant's session is invisible".
 */
import { TENANTS, TOKEN } from './contract.ts';
import { appendTurn, readSession } from './session-ops.ts';

export function otherTenant(): { name: string; token: string } | undefined {
  return TENANTS.find((t) => t.token !== TOKEN);
}

/** The second tenant writes its own session `id` (an idempotent turn) and reads `id` and a case variant. */
export async function crossTenantProbe(id: string): Promise<void> {
  const other = otherTenant();
  if (!other) return;
  const as = { token: other.token, tenant: other.name };
  const variant = id.toUpperCase() === id ? id.toLowerCase() : id.toUpperCase();
  await appendTurn(id, `${other.name}-${id}-own`, 'a turn of the other tenant, under the same session id', as);
  await readSession(id, 'strong', as);
  await readSession(variant, 'strong', as);
}
