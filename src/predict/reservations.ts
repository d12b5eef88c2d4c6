/**
 * Known future load: reservations (a migration about to land, a scheduled batch job) add their
 * amount to the forecasts whose target time they cover. Intervals are [startMs, endMs).
 */
import { InvalidArgumentError } from '../errors.js';

export interface Reservation {
  readonly startMs: number;
  readonly endMs: number;
  /** Added to the reserved metric's forecast (utilization share 0..1, or the metric's unit). */
  readonly amount: number;
  /** The metric it adds to (default: the predictor's reservation metric, `utilization`). */
  readonly metric?: string;
}

export class ReservationBook {
  private items: Reservation[] = [];

  add(reservation: Reservation): void {
    const { startMs, endMs, amount } = reservation;
    if (!Number.isFinite(startMs) || !(endMs > startMs)) throw new InvalidArgumentError('reservation', `needs finite startMs < endMs, got ${startMs}..${endMs}`);
    if (!Number.isFinite(amount)) throw new InvalidArgumentError('amount', `must be finite, got ${amount}`);
    this.items.push({ ...reservation });
  }

  /** Sum of the amounts of `metric` reserved at `timeMs`. */
  amountAt(metric: string, timeMs: number, defaultMetric: string): number {
    let sum = 0;
    for (let i = 0; i < this.items.length; i++) {
      const r = this.items[i] as Reservation;
      if ((r.metric ?? defaultMetric) === metric && timeMs >= r.startMs && timeMs < r.endMs) sum += r.amount;
    }
    return sum;
  }

  /** Drops reservations that ended at or before `nowMs`. */
  prune(nowMs: number): void {
    if (this.items.some((r) => r.endMs <= nowMs)) this.items = this.items.filter((r) => r.endMs > nowMs);
  }

  list(): Reservation[] {
    return this.items.map((r) => ({ ...r }));
  }
}
