/** DELETE /v1/sessions/{id}: 204, 404 when there was none, 503 when the store is unavailable. */
import { ProblemError } from '../errors.ts';
import { legacyKeys, sessionKey, turnIdsKey } from '../store/keys.ts';
import { storeCall, StoreUnavailable, unavailable, type Outcome, type ServiceContext } from './context.ts';

export async function deleteSessionHandler(ctx: ServiceContext, tenant: string, sessionId: string): Promise<Outcome> {
  const key = sessionKey(tenant, sessionId);
  let existed: boolean;
  try {
    // Both layouts (keys.ts): a layout-1 copy left behind would otherwise bring the session back.
    const legacy = legacyKeys(tenant, sessionId);
    existed = await storeCall(ctx, () => ctx.store.remove(key, turnIdsKey(tenant, sessionId), legacy));
  } catch (e) {
    if (e instanceof StoreUnavailable) throw unavailable(ctx);
    throw e;
  }
  ctx.cache.delete(key);
  if (!existed) throw new ProblemError('session_not_found');
  return { status: 204, body: null, mode: 'normal', audit: { result: 'ok' } };
}
