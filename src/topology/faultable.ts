/**
 * The process-fault interface (INTERFACES.md §2). chaos/process.ts owns it; until that lands this
 * is an identical local copy, so topology can implement it without waiting.
 */
export interface FaultableProcess {
  readonly name: string;
  readonly pid: number;
  kill9(): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  restart(opts?: { schemaVersion?: number }): Promise<void>;
}
