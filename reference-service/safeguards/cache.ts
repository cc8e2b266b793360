/**
 * The local read cache: serves bounded and eventual reads, and is the fallback for degraded reads
 * when the store is unavailable. A Map kept in recency order (delete + set) makes it an LRU.
 */
import type { SessionState } from '../schema/state.ts';

export interface CacheEntry {
  state: SessionState;
  revision: number;
  /** The schemaVersion the store held when this was read or written. */
  schemaVersion: number;
  /** Byte length of the stored envelope. */
  bytes: number;
  /** When it was read from or written to the store (epoch ms). */
  atMs: number;
}

export class LocalCache {
  private readonly map = new Map<string, CacheEntry>();
  constructor(private readonly maxEntries: number) {}

  get(key: string): CacheEntry | undefined {
    return this.map.get(key);
  }

  set(key: string, entry: CacheEntry): void {
    const prev = this.map.get(key);
    // Never move a cached session backwards: a slow reply may land after a newer one.
    if (prev && prev.revision > entry.revision) return;
    if (prev) this.map.delete(key);
    else if (this.map.size >= this.maxEntries) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    this.map.set(key, entry);
  }

  delete(key: string): void {
    this.map.delete(key);
  }
}
