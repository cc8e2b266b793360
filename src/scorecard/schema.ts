/**
 * scorecard.json: one backend × store comparison, the source of scorecard.html and scorecard.md
 * and what `stateproof compare` reads to mark what changed between two scorecards. Every figure
 * is derived from the runs' result.json (and history.json) files it links to; hrefs are relative
 * to the scorecard's directory.
 */
import { z } from 'zod';
import { INVARIANT_STATUSES } from '../report/result-schema.ts';

export const SCORECARD_KIND = 'stateproof-scorecard' as const;
export const SCORECARD_SCHEMA_VERSION = 1 as const;
export const SCORECARD_FILE = 'scorecard.json';

/** A run's statuses, plus not-run: the scenario that judges it did not run for this pair (interrupted, or it failed to start). */
export const CELL_STATUSES = [...INVARIANT_STATUSES, 'not-run'] as const;
export type CellStatus = (typeof CELL_STATUSES)[number];

const count = z.number().int().nonnegative();
const nonneg = z.number().finite().nonnegative();

const ReproSchema = z.object({ file: z.string(), test: z.string(), href: z.string() }).strict();

export const InvariantCellSchema = z
  .object({
    status: z.enum(CELL_STATUSES),
    /** Anomalies over the scenarios that violated it. */
    count,
    /** The first anomaly's first proving operation (violated only). */
    firstOp: z.object({ id: z.number().int(), scenario: z.string(), text: z.string(), href: z.string() }).strict().optional(),
    /** Why not applicable, waived, without evidence, or not run. */
    reason: z.string().optional(),
    evidence: z.string().optional(),
    /** The report of the run that decided the cell. */
    href: z.string().optional(),
    repro: ReproSchema.optional(),
    /** A library's violation with no reproduction without the harness yet: measured, not a confirmed finding. */
    unreproduced: z.literal(true).optional(),
    /** Each scenario that judged it, as that run judged it. */
    scenarios: z.array(z.object({ scenario: z.string(), status: z.enum(CELL_STATUSES), anomalies: count, href: z.string().optional() }).strict()),
  })
  .strict();

export const FaultCellSchema = z
  .object({
    href: z.string(),
    fault: z.string(),
    ops: count,
    failed: count,
    unknown: count,
    refused: count.nullable(),
    degraded: count,
    errorRate: z.number().min(0).max(1),
    affectedSessions: count,
    affectedInstances: z.array(z.string()),
    p99BeforeMs: nonneg.nullable(),
    p99DuringMs: nonneg.nullable(),
    /** null: did not recover within the run. */
    timeToRecoverMs: nonneg.nullable(),
    recovered: z.boolean(),
    verified: z.boolean(),
  })
  .strict();

export const PairSchema = z
  .object({
    id: z.string(),
    backend: z.string(),
    store: z.string(),
    /** Library versions the backend's profile declares (empty for the reference service). */
    versions: z.record(z.string(), z.string()),
    storeVersion: z.string().nullable(),
    runs: z.array(
      z
        .object({
          scenario: z.string(),
          runId: z.string().optional(),
          href: z.string().optional(),
          pass: z.boolean().optional(),
          /** The run did not happen or did not finish: the message it failed with, or "interrupted". */
          error: z.string().optional(),
          /** The backend cannot run this scenario at all (it needs the reference service's internals): why. */
          refused: z.string().optional(),
          wallMs: nonneg.optional(),
        })
        .strict(),
    ),
    /** Summed over the scenarios that judged each (null: none did). */
    counts: z.object({ lostWrites: count.nullable(), duplicates: count.nullable(), divergences: count.nullable() }).strict(),
    /** From the long-session run: state bytes per session as it grew. */
    bytes: z
      .object({
        atTurns: count,
        p50Bytes: nonneg,
        maxBytes: nonneg,
        /** Median growth per turn once the window is full (Theil–Sen per session); ~0 when bounded. */
        slopeBytesPerTurn: z.number().finite().nullable(),
        sessionsMeasured: count,
        byTurn: z.array(z.object({ fromTurn: count, toTurn: count, reads: count, p50Bytes: nonneg, maxBytes: nonneg }).strict()),
        source: z.string(),
        href: z.string(),
      })
      .strict()
      .nullable(),
    /** Acknowledged appends per second without faults, measured by the scorecard's own short run. */
    throughput: z
      .object({
        turnsPerSec: nonneg.nullable(),
        connections: count,
        steadySeconds: count,
        errors: count,
        /** The throughput run's own verdict (no-store-5xx, degradation-flagged, from its answers): a figure bought with bare 5xx says so. */
        pass: z.boolean(),
        reasons: z.array(z.string()),
        href: z.string().optional(),
        error: z.string().optional(),
      })
      .strict()
      .nullable(),
  })
  .strict();

export const ScorecardSchema = z
  .object({
    kind: z.literal(SCORECARD_KIND),
    schemaVersion: z.literal(SCORECARD_SCHEMA_VERSION),
    createdAt: z.string(),
    /** argv as given, after `stateproof`. */
    command: z.array(z.string()),
    profile: z.enum(['ci', 'full']),
    scenarios: z.array(z.string()),
    machine: z
      .object({
        os: z.string(),
        arch: z.string(),
        cpus: count,
        cpuModel: z.string().optional(),
        memoryBytes: nonneg,
        node: z.string(),
        /** 1-minute load average when the scorecard started and ended: how much else the machine was doing. */
        loadAverage: z.object({ start: nonneg, end: nonneg }).strict().optional(),
      })
      .strict(),
    stateproof: z.object({ version: z.string(), gitCommit: z.string().nullable() }).strict(),
    pairs: z.array(PairSchema),
    skipped: z.array(z.object({ backend: z.string(), store: z.string(), reason: z.string() }).strict()),
    invariants: z.array(z.object({ name: z.string(), description: z.string(), cells: z.record(z.string(), InvariantCellSchema) }).strict()),
    faults: z.array(z.object({ scenario: z.string(), faultId: z.string(), target: z.string(), cells: z.record(z.string(), FaultCellSchema) }).strict()),
    /** How the throughput figure was got, in words (shown under the table). */
    throughputMethod: z.string().nullable(),
    interrupted: z.boolean(),
    wallMs: nonneg,
    notes: z.array(z.string()),
  })
  .strict();

export type Scorecard = z.infer<typeof ScorecardSchema>;
export type ScorecardPair = z.infer<typeof PairSchema>;
export type InvariantCell = z.infer<typeof InvariantCellSchema>;
export type FaultCell = z.infer<typeof FaultCellSchema>;
