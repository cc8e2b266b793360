/**
 * The segments N runners get, exactly as k6-operator hands them to the pods of a TestRun with
 * `parallelism: N` (grafana/k6-operator pkg/segmentation/segmentation.go): runner i of N (1-based)
 * runs `--execution-segment=(i-1)/N:i/N --execution-segment-sequence=0,1/N,...,(N-1)/N,1`, and
 * one runner gets no flags at all.
 */
export interface RunnerSegment {
  /** 1-based, as k6-operator numbers its runner jobs. */
  index: number;
  executionSegment?: string;
  executionSegmentSequence?: string;
}

export function runnerSegments(parallelism: number): RunnerSegment[] {
  if (!Number.isInteger(parallelism) || parallelism < 1) throw new RangeError(`parallelism must be a whole number >= 1, got ${parallelism}`);
  if (parallelism === 1) return [{ index: 1 }];
  const point = (i: number) => (i === 0 ? '0' : i === parallelism ? '1' : `${i}/${parallelism}`);
  const sequence = Array.from({ length: parallelism + 1 }, (_, i) => point(i)).join(',');
  return Array.from({ length: parallelism }, (_, i) => ({
    index: i + 1,
    executionSegment: `${point(i)}:${point(i + 1)}`,
    executionSegmentSequence: sequence,
  }));
}
