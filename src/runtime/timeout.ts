/** A promise raced against the injected clock: the first to settle wins. */
import type { Clock } from './clock.js';

/** Settles as `promise` does, or rejects with `error()` once `ms` have passed on `clock` (Infinity: never). */
export function withTimeout<T>(clock: Clock, promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  if (ms === Infinity) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimer(() => reject(error()), ms);
    promise.then(
      (value) => {
        timer.cancel();
        resolve(value);
      },
      (err: unknown) => {
        timer.cancel();
        reject(err);
      },
    );
  });
}
