/**
 * A consistent hash ring: each instance owns many points on a 32-bit circle, a key belongs to the
 * first point clockwise from its hash. When an instance is down its keys move to the next live
 * instance on the circle, and only those keys move; when it comes back they return.
 */
const DEFAULT_POINTS_PER_NODE = 128;

/** FNV-1a, 32 bit: fast, well spread for short ids, and the same in every process. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // A final avalanche (murmur3 fmix) so keys that differ only in their last character spread too.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

export class HashRing {
  private readonly points: Uint32Array;
  private readonly owners: Int32Array;

  constructor(
    readonly nodes: readonly string[],
    pointsPerNode = DEFAULT_POINTS_PER_NODE,
  ) {
    const entries: Array<[number, number]> = [];
    nodes.forEach((node, index) => {
      for (let p = 0; p < pointsPerNode; p++) entries.push([fnv1a32(`${node}#${p}`), index]);
    });
    entries.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    this.points = Uint32Array.from(entries.map((e) => e[0]));
    this.owners = Int32Array.from(entries.map((e) => e[1]));
  }

  /**
   * The index of the node that owns `key`, skipping nodes for which `isUp` says false;
   * -1 when none is up.
   */
  lookup(key: string, isUp: (index: number) => boolean = () => true): number {
    const n = this.points.length;
    if (n === 0) return -1;
    const hash = fnv1a32(key);
    // Binary search for the first point >= hash.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    const tried = new Set<number>();
    for (let step = 0; step < n && tried.size < this.nodes.length; step++) {
      const owner = this.owners[(lo + step) % n]!;
      if (tried.has(owner)) continue;
      if (isUp(owner)) return owner;
      tried.add(owner);
    }
    return -1;
  }
}
