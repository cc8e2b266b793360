/** "Did you mean ...?" for a mistyped name: candidates within a small edit distance. */
export function closest(input: string, candidates: readonly string[], maxDistance = 2): string[] {
  const scored = candidates.map((c) => ({ c, d: distance(input.toLowerCase(), c.toLowerCase()) })).filter((x) => x.d <= maxDistance || x.c.startsWith(input));
  return scored.sort((a, b) => a.d - b.d).map((x) => x.c);
}

export function didYouMean(input: string, candidates: readonly string[]): string {
  const near = closest(input, candidates);
  return near.length ? ` Did you mean ${near.slice(0, 2).map((c) => `'${c}'`).join(' or ')}?` : '';
}

/** Levenshtein distance with transpositions counted as one edit (optimal string alignment). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
