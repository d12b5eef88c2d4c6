import assert from 'node:assert/strict';
import { bench } from '../../bench/codecs.bench.js';

describe('codecs bench', () => {
  describe('#run', () => {
    it('reports every case with a same-run baseline in quick mode', async function () {
      this.timeout(10_000);
      const results = await bench.run({ quick: true });
      const cases = results.map((r) => r.case);
      for (const expected of ['cbor 1KiB binary-heavy', 'cbor 1KiB record-heavy', 'cbor 1KiB', 'arrow 1KiB', 'protobuf 1KiB', 'json 1KiB', 'envelope(cbor) 1KiB', 'crc32c 1KiB']) {
        assert.ok(cases.includes(expected), `missing case ${expected}`);
      }
      for (const r of results) {
        assert.ok(r.value > 0 && Number.isFinite(r.value), `${r.case} value ${r.value}`);
        assert.ok(r.baselineValue > 0, `${r.case} baseline ${r.baselineValue}`);
        assert.equal(typeof r.ratio, 'number');
      }
    });
  });
});
