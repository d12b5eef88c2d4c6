import assert from 'node:assert/strict';
import path from 'node:path';
import { TraceFormatError } from '../../src/devices/device-errors.js';
import { readAzureCsv, readBitbrains, readNabCsv, readPlanetLab, readTrace, traceValueAt } from '../../src/devices/traces.js';
import { fixture, recordingLogger, sharedDataDir } from './device-test-helpers.js';

const data = (...parts: string[]): string => path.join(sharedDataDir, ...parts);
const nabFile = data('nab', 'realAWSCloudwatch', 'ec2_cpu_utilization_5f5533.csv');
const planetLabFile = data('planetlab', '20110303', 'aladdin_planetlab_extranet_uni-passau_de_ rnp_dcc_ufjf');

describe('traces', () => {
  describe('readNabCsv', () => {
    it('reads a NAB CloudWatch CPU series with UTC timestamps', async () => {
      const s = await readNabCsv(nabFile);
      assert.equal(s.values.length, 4032);
      assert.equal(s.values[0], 51.846000000000004);
      assert.equal(s.values[1], 44.508);
      assert.deepEqual(s.timesMs.slice(0, 3), [0, 300_000, 600_000]);
      assert.equal(s.intervalMs, 300_000);
      assert.equal(s.startEpochMs, Date.UTC(2014, 1, 14, 14, 27));
      assert.equal(s.name, 'ec2_cpu_utilization_5f5533.csv');
      assert.equal(s.skippedLines, 0);
    });

    it('fails on a bad line with a TraceFormatError naming the file and line', async () => {
      const file = fixture('traces', 'nab-bad-line.csv');
      await assert.rejects(readNabCsv(file), (err: unknown) => {
        assert.ok(err instanceof TraceFormatError);
        assert.equal(err.code, 'GODWIT_ERR_TRACE_FORMAT');
        assert.equal(err.file, file);
        assert.equal(err.line, 4);
        assert.match(err.message, /nab-bad-line.csv line 4 is malformed/);
        return true;
      });
    });
  });

  describe('readPlanetLab', () => {
    it('reads 288 five-minute values from a file whose name has a space', async () => {
      const s = await readPlanetLab(planetLabFile);
      assert.equal(s.values.length, 288);
      assert.deepEqual(s.values.slice(0, 4), [62, 76, 76, 66]);
      assert.equal(s.timesMs[287], 287 * 300_000);
      assert.equal(s.startEpochMs, undefined);
    });

    it('skips a bad line when asked, counts it, logs once, and bridges its slot', async () => {
      const file = fixture('traces', 'planetlab vm with bad line');
      await assert.rejects(readPlanetLab(file), { code: 'GODWIT_ERR_TRACE_FORMAT', line: 3 });
      const log = recordingLogger();
      const s = await readPlanetLab(file, { onBadLine: 'skip', logger: log });
      assert.equal(s.skippedLines, 1);
      assert.equal(s.warnings[0]?.line, 3);
      assert.deepEqual(s.values, [12, 15, 21, 24]);
      assert.deepEqual(s.timesMs, [0, 300_000, 900_000, 1_200_000]);
      assert.equal(traceValueAt(s, 600_000), 18, 'the skipped slot is interpolated');
      assert.equal(log.at('warn').length, 1);
    });
  });

  describe('readBitbrains', () => {
    it("reads the CPU usage % column and takes the '[ms]' timestamps as seconds", async () => {
      const s = await readBitbrains(data('bitbrains', '2013-7', '1.csv'));
      assert.equal(s.values[0], 1.5);
      assert.equal(s.values[1], 0.5);
      assert.equal(s.startEpochMs, 1_372_629_804_000);
      assert.equal(s.intervalMs, 300_000);
      assert.equal(s.timesMs[1], 300_000);
    });

    it('rejects a column the file does not have', async () => {
      await assert.rejects(readBitbrains(data('bitbrains', '2013-7', '1.csv'), { column: 'GPU usage [%]' }), { code: 'GODWIT_ERR_TRACE_FORMAT', line: 1 });
    });
  });

  describe('readAzureCsv', () => {
    it('reads one VM column by name or by index', async () => {
      const file = data('azure-vm', 'microsoft_avg_100.csv');
      const byName = await readAzureCsv(file, { column: '1633748' });
      const byIndex = await readTrace(file, 'azure', { column: 0 });
      assert.deepEqual(byName.values.slice(0, 2), [44.459092, 47.934517]);
      assert.deepEqual(byIndex.values.slice(0, 50), byName.values.slice(0, 50));
      assert.equal(byName.values.length, 8004);
      assert.equal(byName.name, 'microsoft_avg_100.csv#1633748');
      assert.equal(byName.timesMs[2], 600_000);
    });
  });

  describe('traceValueAt', () => {
    it('interpolates, holds the ends, and loops when asked', async () => {
      const s = await readPlanetLab(planetLabFile);
      assert.equal(traceValueAt(s, -5), 62);
      assert.equal(traceValueAt(s, 150_000), 69);
      assert.equal(traceValueAt(s, 10 * 86_400_000), s.values[287]);
      assert.equal(traceValueAt(s, 86_400_000 + 300_000, true), 76, 'second lap, second sample');
    });
  });
});
