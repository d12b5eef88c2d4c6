/**
 * The RMS's store of monitor samples: per resource and metric, a ring of raw points and two
 * downsampled rings (1 s and 10 s buckets with mean, min and max), all in typed arrays, so
 * memory per resource is fixed: `bytesPerMetric` times the number of metrics it reports.
 * A null reading (source unavailable) is kept as such: a gap, never a zero.
 */
import { InvalidArgumentError } from '../../errors.js';

export interface MetricPoint {
  timeMs: number;
  /** null: the source was unavailable at that time. */
  value: number | null;
}

export interface BucketPoint extends MetricPoint {
  min: number | null;
  max: number | null;
  /** Readings in the bucket (nulls not counted). */
  count: number;
}

export interface MetricQuery {
  metric: string;
  /** Points at or after this clock time (default: all kept). */
  sinceMs?: number;
  /** `raw`, `1s` or `10s` (default: the finest that covers `sinceMs`). */
  resolution?: 'raw' | '1s' | '10s';
}

export interface MetricStoreOptions {
  /** Raw points kept per metric (default 512). */
  rawPoints?: number;
  /** 1 s buckets kept per metric (default 300: five minutes). */
  secondBuckets?: number;
  /** 10 s buckets kept per metric (default 360: one hour). */
  tenSecondBuckets?: number;
}

class Ring {
  readonly time: Float64Array;
  readonly value: Float64Array;
  start = 0;
  size = 0;
  constructor(readonly capacity: number) {
    this.time = new Float64Array(capacity);
    this.value = new Float64Array(capacity);
  }
  push(timeMs: number, value: number): number {
    const i = (this.start + this.size) % this.capacity;
    if (this.size < this.capacity) this.size++;
    else this.start = (this.start + 1) % this.capacity;
    this.time[i] = timeMs;
    this.value[i] = value;
    return i;
  }
  index(k: number): number {
    return (this.start + k) % this.capacity;
  }
}

/** A ring of buckets of `widthMs`, each with sum, min, max and count. */
class Buckets {
  readonly ring: Ring;
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly count: Float64Array;
  private current = -1;
  constructor(
    capacity: number,
    readonly widthMs: number,
  ) {
    this.ring = new Ring(capacity);
    this.min = new Float64Array(capacity);
    this.max = new Float64Array(capacity);
    this.count = new Float64Array(capacity);
  }
  add(timeMs: number, value: number): void {
    const start = Math.floor(timeMs / this.widthMs) * this.widthMs;
    const last = this.ring.size > 0 ? this.ring.index(this.ring.size - 1) : -1;
    if (last < 0 || this.ring.time[last] !== start) {
      this.current = this.ring.push(start, 0);
      this.min[this.current] = Number.NaN;
      this.max[this.current] = Number.NaN;
      this.count[this.current] = 0;
    }
    if (Number.isNaN(value)) return;
    const i = this.current;
    this.ring.value[i]! += value;
    this.count[i]! += 1;
    this.min[i] = Number.isNaN(this.min[i]!) ? value : Math.min(this.min[i]!, value);
    this.max[i] = Number.isNaN(this.max[i]!) ? value : Math.max(this.max[i]!, value);
  }
}

export class Series {
  readonly raw: Ring;
  readonly seconds: Buckets;
  readonly tens: Buckets;
  constructor(o: Required<MetricStoreOptions>) {
    this.raw = new Ring(o.rawPoints);
    this.seconds = new Buckets(o.secondBuckets, 1000);
    this.tens = new Buckets(o.tenSecondBuckets, 10_000);
  }
  add(timeMs: number, value: number | null): void {
    const v = value === null ? Number.NaN : value;
    this.raw.push(timeMs, v);
    this.seconds.add(timeMs, v);
    this.tens.add(timeMs, v);
  }
}

const orNull = (x: number | undefined): number | null => (x === undefined || Number.isNaN(x) ? null : x);

export class MetricStore {
  private readonly series = new Map<string, Map<string, Series>>();
  private readonly options: Required<MetricStoreOptions>;

  constructor(options: MetricStoreOptions = {}) {
    this.options = { rawPoints: options.rawPoints ?? 512, secondBuckets: options.secondBuckets ?? 300, tenSecondBuckets: options.tenSecondBuckets ?? 360 };
    for (const [k, v] of Object.entries(this.options)) {
      if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`metrics.${k}`, 'must be a positive integer');
    }
  }

  /** Fixed memory one metric of one resource takes, in bytes (typed arrays only). */
  get bytesPerMetric(): number {
    const o = this.options;
    return o.rawPoints * 16 + (o.secondBuckets + o.tenSecondBuckets) * 40;
  }

  record(resource: string, timeMs: number, metrics: Readonly<Record<string, number | null>>): void {
    const byMetric = this.seriesOf(resource);
    for (const name in metrics) this.add(byMetric, name, timeMs, metrics[name]);
  }

  /** The series of one resource, for a caller that records metric by metric (the monitor). */
  seriesOf(resource: string): Map<string, Series> {
    let byMetric = this.series.get(resource);
    if (!byMetric) this.series.set(resource, (byMetric = new Map()));
    return byMetric;
  }

  add(byMetric: Map<string, Series>, name: string, timeMs: number, value: number | null | undefined): void {
    let s = byMetric.get(name);
    if (!s) byMetric.set(name, (s = new Series(this.options)));
    s.add(timeMs, typeof value === 'number' && Number.isFinite(value) ? value : null);
  }

  resources(): string[] {
    return [...this.series.keys()];
  }

  metricsOf(resource: string): string[] {
    return [...(this.series.get(resource)?.keys() ?? [])];
  }

  /** The latest raw reading of every metric of a resource. */
  latest(resource: string): Record<string, MetricPoint> {
    const out: Record<string, MetricPoint> = {};
    for (const [name, s] of this.series.get(resource) ?? []) {
      if (s.raw.size === 0) continue;
      const i = s.raw.index(s.raw.size - 1);
      out[name] = { timeMs: s.raw.time[i]!, value: orNull(s.raw.value[i]) };
    }
    return out;
  }

  query(resource: string, q: MetricQuery): Array<MetricPoint | BucketPoint> {
    const s = this.series.get(resource)?.get(q.metric);
    if (!s) return [];
    const since = q.sinceMs ?? -Infinity;
    const resolution = q.resolution ?? this.finest(s, since);
    if (resolution === 'raw') {
      const out: MetricPoint[] = [];
      for (let k = 0; k < s.raw.size; k++) {
        const i = s.raw.index(k);
        if (s.raw.time[i]! >= since) out.push({ timeMs: s.raw.time[i]!, value: orNull(s.raw.value[i]) });
      }
      return out;
    }
    const b = resolution === '1s' ? s.seconds : s.tens;
    const out: BucketPoint[] = [];
    for (let k = 0; k < b.ring.size; k++) {
      const i = b.ring.index(k);
      if (b.ring.time[i]! + b.widthMs <= since) continue;
      const count = b.count[i]!;
      out.push({ timeMs: b.ring.time[i]!, value: count > 0 ? b.ring.value[i]! / count : null, min: orNull(b.min[i]), max: orNull(b.max[i]), count });
    }
    return out;
  }

  /** The finest resolution whose ring still reaches back to `sinceMs`. */
  private finest(s: Series, sinceMs: number): 'raw' | '1s' | '10s' {
    const oldest = (r: Ring) => (r.size === 0 ? Infinity : r.time[r.index(0)]!);
    if (s.raw.size < s.raw.capacity || oldest(s.raw) <= sinceMs) return 'raw';
    if (s.seconds.ring.size < s.seconds.ring.capacity || oldest(s.seconds.ring) <= sinceMs) return '1s';
    return '10s';
  }
}
