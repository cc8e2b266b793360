/**
 * The process-fault interface is chaos's (INTERFACES.md §2); topology implements it for service
 * instances and Redis. Re-exported here so topology modules import it from one place.
 */
export type { FaultableProcess } from '../../chaos/process.ts';
