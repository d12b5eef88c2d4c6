/**
 * An AR(p) fit's h-step forecasts in closed form. Without clamping, the iterated forecast h steps
 * ahead is affine in the last p values: f(h) = c_h + w_h . (x_0 latest, x_1, ..., x_{p-1}), with
 * (c_h, w_h) following the AR recursion itself. They are computed once per fit (extended on
 * demand to the longest horizon asked), so a forecast costs O(p) instead of O(h p).
 *
 * The model clamps every iterated step to a range (`low`..`high`) so an unstable fit cannot run
 * away; the affine form is only exact while no step would be clamped. `safeSteps` is how many
 * steps are proven never to be clamped for any start values inside a box (`lo`..`hi`, the fitted
 * window's range): the extreme of c_s + w_s . x over the box is taken coefficient by coefficient.
 * The caller checks that its last p values lie in the box, and iterates otherwise.
 */
export class ArHorizons {
  /** Per step s = 1, 2, ...: p + 1 numbers at (s - 1) * (p + 1): c_s, then w_s (lag 0 first). */
  private rows: Float64Array = new Float64Array(0);
  private length = 0;
  private safe = 0;
  private coef: Float64Array = new Float64Array(0);
  private low = -Infinity;
  private high = Infinity;
  private lo = 0;
  private hi = 0;

  constructor(readonly order: number) {}

  /** Starts over for a new fit: `coef` = [intercept, a_1 (lag 1), ..., a_p]. */
  reset(coef: Float64Array, low: number, high: number, lo: number, hi: number): void {
    this.coef = coef;
    this.low = low;
    this.high = high;
    this.lo = lo;
    this.hi = hi;
    this.length = 0;
    this.safe = 0;
  }

  /** True when every one of `recent` (the last p values, latest first) lies in the box. */
  inBox(recent: Float64Array): boolean {
    for (let j = 0; j < this.order; j++) {
      const x = recent[j] as number;
      if (!(x >= this.lo && x <= this.hi)) return false;
    }
    return true;
  }

  /** Steps 1..n that are proven unclamped for starts in the box, after computing up to `horizonSteps`. */
  safeSteps(horizonSteps: number): number {
    if (this.length < horizonSteps) this.extend(horizonSteps);
    return this.safe;
  }

  /** The h-step forecast (h <= `safeSteps(h)`) from `recent`, the last p values, latest first. */
  at(horizonSteps: number, recent: Float64Array): number {
    const k = this.order + 1;
    const base = (horizonSteps - 1) * k;
    const rows = this.rows;
    let f = rows[base] as number;
    for (let j = 0; j < this.order; j++) f += (rows[base + 1 + j] as number) * (recent[j] as number);
    return f;
  }

  private extend(horizonSteps: number): void {
    const p = this.order;
    const k = p + 1;
    if (this.rows.length < horizonSteps * k) {
      const grown = new Float64Array(Math.max(horizonSteps, 2 * (this.rows.length / k)) * k);
      grown.set(this.rows.subarray(0, this.length * k));
      this.rows = grown;
    }
    const rows = this.rows;
    const coef = this.coef;
    for (let s = this.length + 1; s <= horizonSteps; s++) {
      const base = (s - 1) * k;
      rows[base] = coef[0] as number;
      for (let j = 1; j < k; j++) rows[base + j] = 0;
      for (let j = 1; j <= p; j++) {
        const a = coef[j] as number;
        if (s - j >= 1) {
          // An earlier step of the path.
          const from = (s - j - 1) * k;
          for (let c = 0; c < k; c++) rows[base + c] = (rows[base + c] as number) + a * (rows[from + c] as number);
        } else {
          // An observed value: x_{j - s} (lag j - s behind the latest).
          rows[base + 1 + j - s] = (rows[base + 1 + j - s] as number) + a;
        }
      }
      if (this.safe === s - 1) {
        let min = rows[base] as number;
        let max = min;
        for (let c = 1; c < k; c++) {
          const w = rows[base + c] as number;
          min += w * (w > 0 ? this.lo : this.hi);
          max += w * (w > 0 ? this.hi : this.lo);
        }
        if (min >= this.low && max <= this.high) this.safe = s;
      }
    }
    this.length = horizonSteps;
  }
}
