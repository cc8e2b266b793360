/** What a store snapshot carries besides the sessions, for either store (Redis or Postgres). */
export interface SnapshotExtras {
  /** Pinned facts per `tenant/session`, for the pinned-facts check. */
  pinned: Map<string, string[]>;
  /** Turn texts in the window per `tenant/session`. */
  windowText: Map<string, string[]>;
  /** Keys whose value could not be parsed: half-written or foreign state. */
  corrupt: string[];
  /** MEMORY USAGE by key kind; null when Redis refused the command (e.g. a managed Redis). */
  keyMemory: KeyMemorySample[] | null;
  /** A cluster: what each primary holds (the capacity section's per-shard figures). */
  shards?: ShardSample[];
}

export interface ShardSample {
  /** The primary's address, e.g. 127.0.0.1:7000. */
  node: string;
  /** Slots it serves. */
  slots: number;
  /** Sessions stored on it. */
  sessions: number;
  /** Its used_memory after the run; null when INFO was refused. */
  usedMemoryBytes: number | null;
}

export interface KeyMemorySample {
  kind: 'state' | 'turn-id index' | 'other';
  keys: number;
  sampledKeys: number;
  /** Mean MEMORY USAGE of the sampled keys × keys. */
  bytes: number;
}

