/** The least-squares line through `y` at x = 1..n: `[intercept, slope]` (slope 0 when n < 2). */
export function linearFit(y: ArrayLike<number>, n = y.length): [number, number] {
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const x = i + 1;
    const v = y[i] ?? 0;
    sx += x;
    sy += v;
    sxx += x * x;
    sxy += x * v;
  }
  const den = n * sxx - sx * sx;
  const slope = den === 0 ? 0 : (n * sxy - sx * sy) / den;
  return [(sy - slope * sx) / n, slope];
}
