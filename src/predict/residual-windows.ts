/**
 * Many windows of recent signed residuals (actual - forecast) packed in a few typed arrays: one
 * selector's every model x horizon. A series' whole bookkeeping then sits in a handful of
 * contiguous blocks instead of hundreds of small objects (what made a control interval over
 * thousands of series slow: cache misses, not arithmetic).
 *
 * Each window keeps its last `capacity` residuals in arrival order and their absolute sum, so an
 * add and the mean absolute residual are O(1). No sorted copy is kept: `quantile` selects the
 * order statistics it needs from a scratch copy (O(capacity)), and `band` (the P50/P90 offsets
 * every forecast asks for) reuses its last answer until the window has taken more than 1/4 of
 * its size in new residuals since (at most 50 of 200), so a window served every step costs
 * O(capacity / 50) a step and one only scored costs O(1).
 */
import { InvalidArgumentError } from '../errors.js';

/** Per window in `meta`: kept count, next ring slot, adds since `band` last computed (-1: never). */
const N = 0;
const NEXT = 1;
const STALE = 2;
const META = 3;

/**
 * Windows come in `groups` (a horizon) of `members` (the sources scored at it); window
 * (g, m) is number g * members + m, its ring at w * capacity.
 */
export class ResidualWindows {
  private ring: Float64Array;
  private absSum: Float64Array;
  private meta: Int32Array;
  /** Per window, the last `band`: P50 and P90 residual. */
  private bands: Float64Array;
  private readonly scratch: Float64Array;

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
    this.bands = new Float64Array(windows * 2);
    for (let w = 0; w < windows; w++) this.meta[w * META + STALE] = -1;
    this.scratch = new Float64Array(capacity);
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
    const absSum = new Float64Array(this.groups * members);
    const meta = new Int32Array(this.groups * members * META);
    const bands = new Float64Array(this.groups * members * 2);
    for (let g = 0; g < this.groups; g++) {
      ring.set(this.ring.subarray(g * old * cap, (g + 1) * old * cap), g * members * cap);
      absSum.set(this.absSum.subarray(g * old, (g + 1) * old), g * members);
      meta.set(this.meta.subarray(g * old * META, (g + 1) * old * META), g * members * META);
      meta[(g * members + old) * META + STALE] = -1;
      bands.set(this.bands.subarray(g * old * 2, (g + 1) * old * 2), g * members * 2);
    }
    this.ring = ring;
    this.absSum = absSum;
    this.meta = meta;
    this.bands = bands;
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
    const base = w * this.capacity;
    const n = meta[m + N] as number;
    if (n < this.capacity) {
      this.ring[base + n] = residual;
      meta[m + N] = n + 1;
    } else {
      const next = meta[m + NEXT] as number;
      const at = base + next;
      this.absSum[w] = (this.absSum[w] as number) - Math.abs(this.ring[at] as number);
      this.ring[at] = residual;
      meta[m + NEXT] = next + 1 === this.capacity ? 0 : next + 1;
    }
    this.absSum[w] = (this.absSum[w] as number) + Math.abs(residual);
    if ((meta[m + STALE] as number) >= 0) meta[m + STALE] = (meta[m + STALE] as number) + 1;
  }

  /** The q-quantile (0..1) of window `w`, linearly interpolated; 0 when empty. Exact, O(n). */
  quantile(w: number, q: number): number {
    return quantileOf(this.copy(w), this.size(w), q);
  }

  /**
   * P50 and P90 residual of window `w` (0 when empty), written to `out`: exact when computed,
   * then reused until more than 1/4 of the window is new residuals (a selection of 200 values
   * costs about as much as the rest of a step's bookkeeping; 1/8 cost 4 % more per interval
   * with the same P90 coverage in eval-forecast).
   */
  band(w: number, out: { p50: number; p90: number }): void {
    const m = w * META;
    const n = this.meta[m + N] as number;
    const stale = this.meta[m + STALE] as number;
    if (stale < 0 || stale * 4 > n) {
      // P90 first: its selection leaves the lower values in front, where P50 is selected from.
      const kept = this.copy(w);
      this.bands[2 * w + 1] = quantileOf(kept, n, 0.9);
      this.bands[2 * w] = quantileOf(kept, n, 0.5, Math.min(n, Math.floor(0.9 * (n - 1)) + 1));
      this.meta[m + STALE] = 0;
    }
    out.p50 = this.bands[2 * w] as number;
    out.p90 = this.bands[2 * w + 1] as number;
  }

  /** Window `w`'s residuals copied into the scratch buffer, in any order. */
  private copy(w: number): Float64Array {
    const n = this.meta[w * META + N] as number;
    const base = w * this.capacity;
    for (let k = 0; k < n; k++) this.scratch[k] = this.ring[base + k] as number;
    return this.scratch;
  }

  /** Mean absolute residual of window `w`; NaN when empty. */
  meanAbs(w: number): number {
    const n = this.meta[w * META + N] as number;
    return n === 0 ? Number.NaN : Math.max(this.absSum[w] as number, 0) / n;
  }
}

/**
 * The interpolated q-quantile of a[0..n), by selection (reorders a); 0 when n is 0. When the
 * values the quantile needs (order statistics k and k + 1) are known to lie in a[0..within), as
 * after selecting a higher order statistic at `within` - 1, only that prefix is searched.
 */
function quantileOf(a: Float64Array, n: number, q: number, within = n): number {
  if (n === 0) return 0;
  const x = Math.min(Math.max(q, 0), 1) * (n - 1);
  const k = Math.floor(x);
  const m = k + 1 < within ? within : n;
  select(a, m, k);
  const lo = a[k] as number;
  if (k + 1 >= n || x === k) return lo;
  // After selecting k, the (k + 1)-th smallest is the least of a(k..m).
  let hi = a[k + 1] as number;
  for (let i = k + 2; i < m; i++) if ((a[i] as number) < hi) hi = a[i] as number;
  return lo + (hi - lo) * (x - k);
}

/** Hoare quickselect: afterwards a[k] is the k-th smallest of a[0..n), smaller ones before it, larger after. */
function select(a: Float64Array, n: number, k: number): void {
  let left = 0;
  let right = n - 1;
  while (right > left) {
    const mid = (left + right) >> 1;
    // Median of three as the pivot.
    const x = a[left] as number;
    const y = a[mid] as number;
    const z = a[right] as number;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = left;
    let j = right;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return;
  }
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
