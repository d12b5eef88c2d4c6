/**
 * Many windows of recent signed residuals (actual - forecast) packed in a few typed arrays: one
 * selector's every model x horizon. A series' whole bookkeeping then sits in a handful of
 * contiguous blocks instead of hundreds of small objects (what made a control interval over
 * thousands of series slow: cache misses, not arithmetic).
 *
 * Each window keeps its last `capacity` residuals in arrival order and their absolute sum, so an
 * add and the mean absolute residual are O(1). Quantiles need the window in sorted order: that
 * copy is built (one typed-array sort) on the first quantile asked for, then kept up to date on
 * each add (the new residual replaces the oldest in place, shifting only the values between their
 * two positions) until `max(4, capacity / 8)` adds pass with no quantile asked for; then it is
 * left stale until the next one. A window served every step (the selected model's) answers in
 * O(1); one only scored (every other model's) costs O(1) a step. The answers are the same either way.
 */
import { InvalidArgumentError } from '../errors.js';

/** Per window in `meta`: kept count, next ring slot, adds since the last quantile, sorted copy in order (1/0). */
const N = 0;
const NEXT = 1;
const UNREAD = 2;
const IN_ORDER = 3;
const META = 4;

/**
 * Windows come in `groups` (a horizon) of `members` (the sources scored at it); window
 * (g, m) is number g * members + m. The rings are interleaved by member, so members of a group
 * that are scored in step (the usual case) write neighbouring values.
 */
export class ResidualWindows {
  private ring: Float64Array;
  private absSum: Float64Array;
  private meta: Int32Array;
  /** Sorted copies, allocated on a window's first quantile. */
  private sorted: Array<Float64Array | undefined>;
  private readonly maxUnread: number;

  constructor(
    readonly groups: number,
    private memberCount: number,
    readonly capacity = 200,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new InvalidArgumentError('capacity', `must be an integer >= 1, got ${capacity}`);
    const windows = groups * memberCount;
    this.ring = new Float64Array(windows * capacity);
    this.absSum = new Float64Array(windows);
    this.meta = new Int32Array(windows * META);
    this.sorted = new Array<Float64Array | undefined>(windows).fill(undefined);
    this.maxUnread = Math.max(4, capacity >> 3);
  }

  get members(): number {
    return this.memberCount;
  }

  /** Adds an empty window to every group (a model added to a running selector). */
  addMember(): void {
    const old = this.memberCount;
    const members = old + 1;
    const cap = this.capacity;
    const ring = new Float64Array(this.groups * members * cap);
    for (let r = 0; r < this.groups * cap; r++) ring.set(this.ring.subarray(r * old, (r + 1) * old), r * members);
    const absSum = new Float64Array(this.groups * members);
    const meta = new Int32Array(this.groups * members * META);
    const sorted: Array<Float64Array | undefined> = [];
    for (let g = 0; g < this.groups; g++) {
      absSum.set(this.absSum.subarray(g * old, (g + 1) * old), g * members);
      meta.set(this.meta.subarray(g * old * META, (g + 1) * old * META), g * members * META);
      sorted.push(...this.sorted.slice(g * old, (g + 1) * old), undefined);
    }
    this.ring = ring;
    this.absSum = absSum;
    this.meta = meta;
    this.sorted = sorted;
    this.memberCount = members;
  }

  size(w: number): number {
    return this.meta[w * META + N] ?? 0;
  }

  /** Adds to window `w` (= group * members + member). */
  add(w: number, residual: number): void {
    if (!Number.isFinite(residual)) return;
    const meta = this.meta;
    const m = w * META;
    const cap = this.capacity;
    const members = this.memberCount;
    const g = (w / members) | 0;
    // Slot k of window w: ring[(g * cap + k) * members + member].
    const base = g * cap * members + (w - g * members);
    const n = meta[m + N] as number;
    const sorted = meta[m + IN_ORDER] === 1 ? this.sorted[w] : undefined;
    if (n < cap) {
      this.ring[base + n * members] = residual;
      if (sorted) insertSorted(sorted, n, residual);
      meta[m + N] = n + 1;
    } else {
      const next = meta[m + NEXT] as number;
      const at = base + next * members;
      const old = this.ring[at] as number;
      this.ring[at] = residual;
      meta[m + NEXT] = next + 1 === cap ? 0 : next + 1;
      this.absSum[w] = (this.absSum[w] as number) - Math.abs(old);
      if (sorted) replaceSorted(sorted, n, old, residual);
    }
    this.absSum[w] = (this.absSum[w] as number) + Math.abs(residual);
    if (sorted) {
      const unread = (meta[m + UNREAD] as number) + 1;
      meta[m + UNREAD] = unread;
      if (unread > this.maxUnread) meta[m + IN_ORDER] = 0;
    }
  }

  /** The q-quantile (0..1) of window `w`, linearly interpolated; 0 when empty. */
  quantile(w: number, q: number): number {
    const m = w * META;
    const n = this.meta[m + N] as number;
    if (n === 0) return 0;
    let sorted = this.sorted[w];
    if (!sorted || this.meta[m + IN_ORDER] !== 1) {
      sorted ??= this.sorted[w] = new Float64Array(this.capacity);
      const members = this.memberCount;
      const g = (w / members) | 0;
      const base = g * this.capacity * members + (w - g * members);
      for (let k = 0; k < n; k++) sorted[k] = this.ring[base + k * members] as number;
      sorted.subarray(0, n).sort();
      this.meta[m + IN_ORDER] = 1;
    }
    this.meta[m + UNREAD] = 0;
    const x = Math.min(Math.max(q, 0), 1) * (n - 1);
    const lo = Math.floor(x);
    const a = sorted[lo] as number;
    const b = sorted[Math.min(lo + 1, n - 1)] as number;
    return a + (b - a) * (x - lo);
  }

  /** Mean absolute residual of window `w`; NaN when empty. */
  meanAbs(w: number): number {
    const n = this.meta[w * META + N] as number;
    return n === 0 ? Number.NaN : Math.max(this.absSum[w] as number, 0) / n;
  }
}

/** Inserts into the first `n` sorted values: shifts the larger ones up by one. */
function insertSorted(sorted: Float64Array, n: number, residual: number): void {
  let j = n;
  while (j > 0 && (sorted[j - 1] as number) > residual) {
    sorted[j] = sorted[j - 1] as number;
    j--;
  }
  sorted[j] = residual;
}

/** Replaces `old` by `residual` among the first `n` sorted values: shifts only the values between the two positions. */
function replaceSorted(sorted: Float64Array, n: number, old: number, residual: number): void {
  let i = lowerBound(sorted, old, n);
  if (residual > old) {
    while (i + 1 < n && (sorted[i + 1] as number) < residual) {
      sorted[i] = sorted[i + 1] as number;
      i++;
    }
  } else {
    while (i > 0 && (sorted[i - 1] as number) > residual) {
      sorted[i] = sorted[i - 1] as number;
      i--;
    }
  }
  sorted[i] = residual;
}

function lowerBound(sorted: Float64Array, x: number, n: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One window: the most recent `capacity` residuals with O(1) mean absolute value and quantiles on demand. */
export class ResidualQuantiles {
  private readonly windows: ResidualWindows;

  constructor(readonly capacity = 200) {
    this.windows = new ResidualWindows(1, 1, capacity);
  }

  get size(): number {
    return this.windows.size(0);
  }

  add(residual: number): void {
    this.windows.add(0, residual);
  }

  /** The q-quantile (0..1) of the kept residuals, linearly interpolated; 0 when empty. */
  quantile(q: number): number {
    return this.windows.quantile(0, q);
  }

  /** Mean absolute residual of the kept window; NaN when empty. */
  meanAbs(): number {
    return this.windows.meanAbs(0);
  }
}
