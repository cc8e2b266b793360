/** The version a Redis-protocol store reports about itself (Valkey names its own beside the compatible one). */
import { Redis } from 'ioredis';

export async function redisServerVersion(url: string): Promise<string | null> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 3_000, enableOfflineQueue: false });
  // The caller only wants a version or null: a refused connection is a null, not an unhandled event.
  redis.on('error', () => {});
  try {
    await redis.connect();
    const info = await redis.info('server');
    // Valkey answers redis_version 7.2.4 for compatibility and its own version beside it.
    const valkey = /valkey_version:([^\r\n]+)/.exec(info);
    if (valkey) return `valkey ${valkey[1]}`;
    const m = /redis_version:([^\r\n]+)/.exec(info);
    return m ? m[1]! : null;
  } catch {
    return null;
  } finally {
    redis.disconnect();
  }
}
