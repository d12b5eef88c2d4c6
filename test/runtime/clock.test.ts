import assert from 'node:assert/strict';
import { createManualClock } from '../../src/index.js';

describe('ManualClock', () => {
  describe('#advance', () => {
    it('fires due timers in time order, including timers set by timers, and skips cancelled ones', () => {
      const clock = createManualClock(100);
      const fired: string[] = [];
      clock.setTimer(() => fired.push(`b@${clock.now()}`), 20);
      const cancelled = clock.setTimer(() => fired.push('never'), 5);
      clock.setTimer(() => {
        fired.push(`a@${clock.now()}`);
        clock.setTimer(() => fired.push(`c@${clock.now()}`), 5);
      }, 10);
      cancelled.cancel();
      clock.advance(14);
      assert.deepEqual(fired, ['a@110']);
      clock.advance(100);
      assert.deepEqual(fired, ['a@110', 'c@115', 'b@120']);
      assert.equal(clock.now(), 214);
      assert.equal(clock.pending(), 0);
    });
  });
});
