import assert from 'node:assert/strict';
import { NoResourceError, defineTask, simulatedDevice, type Affinity, type Runtime } from '../../src/index.js';
import { counter, counterWith } from '../fixtures.js';
import { quietRuntime } from '../helpers.js';

const GiB = 1024 ** 3;
const devices = () => [
  simulatedDevice({ kind: 'cpu', id: 'cpu-0', computeUnits: 4, memoryBytes: 8 * GiB, labels: { zone: 'a' } }),
  simulatedDevice({ kind: 'cpu', id: 'cpu-1', computeUnits: 4, memoryBytes: 8 * GiB, labels: { zone: 'b' } }),
  simulatedDevice({ kind: 'gpu', id: 'gpu-0', memoryBytes: 24 * GiB, labels: { zone: 'a' }, capabilities: ['cuda', 'fp16'] }),
  simulatedDevice({ kind: 'fpga', id: 'fpga-0', labels: { zone: 'b' } }),
  simulatedDevice({ kind: 'asic', id: 'asic-0', labels: { zone: 'b' }, capabilities: ['int8'] }),
];

describe('placement', () => {
  let rt: Runtime;
  beforeEach(() => (rt = quietRuntime({ devices: devices() })));
  afterEach(async () => rt.shutdown());

  const placed = (affinity: Affinity | undefined) => {
    const ref = rt.spawn(counter, affinity ? { affinity } : {});
    return rt.tasks().find((t) => t.id === ref.id)?.resource;
  };

  const table: Array<{ name: string; affinity: Affinity | undefined; expect: string | string[] }> = [
    { name: 'no hints: least loaded, then lowest id', affinity: undefined, expect: 'asic-0' },
    { name: 'require kinds', affinity: { require: { kinds: ['gpu'] } }, expect: 'gpu-0' },
    { name: 'require labels', affinity: { require: { kinds: ['cpu'], labels: { zone: 'b' } } }, expect: 'cpu-1' },
    { name: 'require memory', affinity: { require: { minMemoryBytes: 20 * GiB } }, expect: 'gpu-0' },
    { name: 'require capabilities', affinity: { require: { capabilities: ['int8'] } }, expect: 'asic-0' },
    { name: 'require resources', affinity: { require: { resources: ['fpga-0'] } }, expect: 'fpga-0' },
    { name: 'prefer a kind', affinity: { prefer: [{ kind: 'fpga' }] }, expect: 'fpga-0' },
    { name: 'heavier preference wins', affinity: { prefer: [{ kind: 'fpga', weight: 1 }, { capability: 'cuda', weight: 3 }] }, expect: 'gpu-0' },
    { name: 'avoid pushes away', affinity: { require: { kinds: ['cpu'] }, avoid: [{ labels: { zone: 'a' } }] }, expect: 'cpu-1' },
    { name: 'prefer never breaks require', affinity: { require: { kinds: ['cpu'] }, prefer: [{ kind: 'gpu', weight: 100 }] }, expect: ['cpu-0', 'cpu-1'] },
  ];
  for (const row of table) {
    it(row.name, () => {
      const where = placed(row.affinity);
      if (Array.isArray(row.expect)) assert.ok(row.expect.includes(where!), `placed on ${where}`);
      else assert.equal(where, row.expect);
    });
  }

  const impossible: Array<{ name: string; affinity: Affinity; constraint: string }> = [
    { name: 'kind', affinity: { require: { kinds: ['gpu'], resources: ['cpu-0'] } }, constraint: 'require.kinds' },
    { name: 'label', affinity: { require: { kinds: ['gpu'], labels: { zone: 'b' } } }, constraint: 'require.labels' },
    { name: 'memory', affinity: { require: { minMemoryBytes: 100 * GiB } }, constraint: 'require.minMemoryBytes' },
    { name: 'capability', affinity: { require: { capabilities: ['quantum'] } }, constraint: 'require.capabilities' },
  ];
  for (const row of impossible) {
    it(`a task that cannot be placed gets NoResourceError naming the ${row.name} constraint`, () => {
      assert.throws(
        () => rt.spawn(counter, { affinity: row.affinity }),
        (err: unknown) => {
          assert.ok(err instanceof NoResourceError);
          assert.equal(err.code, 'GODWIT_ERR_NO_RESOURCE');
          assert.equal(err.task, 'counter');
          assert.equal(err.constraint, row.constraint);
          assert.equal(err.unmet.length, 5);
          assert.match(err.message, new RegExp(row.constraint.replace('.', '\\.')));
          return true;
        },
      );
    });
  }

  it('places a task with kernels only on kinds it has a kernel for', () => {
    const gpuOnly = counterWith({ name: 'gpu-only', kernels: { gpu: () => 1 } });
    assert.equal(rt.tasks().length, 0);
    const ref = rt.spawn(gpuOnly);
    assert.equal(rt.tasks().find((t) => t.id === ref.id)?.resource, 'gpu-0');
    assert.throws(() => rt.spawn(gpuOnly, { affinity: { require: { kinds: ['cpu'] } } }), (err: unknown) => err instanceof NoResourceError && err.constraint === 'kernels');
  });

  it('counts demand against capacity and refuses when no resource has room', () => {
    const big = counterWith({ name: 'big', demand: { computeUnits: 4 } });
    const onCpu = { affinity: { require: { kinds: ['cpu' as const] } } };
    rt.spawn(big, onCpu);
    rt.spawn(big, onCpu);
    assert.deepEqual(
      rt.resources().filter((r) => r.kind === 'cpu').map((r) => r.used.computeUnits),
      [4, 4],
    );
    assert.throws(() => rt.spawn(big, onCpu), (err: unknown) => err instanceof NoResourceError && err.constraint === 'capacity');
  });

  it('frees capacity when a task stops', async () => {
    const big = counterWith({ name: 'big', demand: { computeUnits: 4, memoryBytes: GiB } });
    const ref = rt.spawn(big, { affinity: { require: { resources: ['cpu-0'] } } });
    assert.equal(rt.resources()[0]?.used.memoryBytes, GiB);
    await rt.stop(ref);
    assert.deepEqual(rt.resources()[0]?.used, { computeUnits: 0, memoryBytes: 0 });
  });

  it('rejects affinity naming an unknown device kind', () => {
    assert.throws(() => rt.spawn(counter, { affinity: { require: { kinds: ['tpu' as never] } } }), { code: 'GODWIT_ERR_INVALID_ARGUMENT' });
  });

  it('runs the kernel of the hosting kind and accounts its time by the device speed', async () => {
    await rt.shutdown();
    rt = quietRuntime({
      devices: [
        simulatedDevice({ kind: 'cpu', id: 'cpu-0' }),
        simulatedDevice({ kind: 'gpu', id: 'gpu-0', speed: { matmul: 10, default: 2 } }),
      ],
    });
    // Each kernel records how long it actually ran (a loaded machine may stretch the 5 ms spin).
    const ran: Record<string, number> = {};
    const spin = (kind: string, ms: number) => {
      const start = performance.now();
      const end = start + ms;
      while (performance.now() < end);
      ran[kind] = performance.now() - start;
    };
    const matmul = defineTask<null, string, string>({
      name: 'matmul',
      kernels: { cpu: () => (spin('cpu', 5), 'ran on cpu'), gpu: () => (spin('gpu', 5), 'ran on gpu') },
      init: () => null,
      receive: (s, _m, ctx) => (ctx.reply(ctx.kernel(null)), s),
    });
    const c = rt.spawn(matmul, { affinity: { require: { kinds: ['cpu'] } } });
    const g = rt.spawn(matmul, { affinity: { require: { kinds: ['gpu'] } } });
    assert.equal(await rt.ask(c, 'go'), 'ran on cpu');
    const asked = performance.now();
    assert.equal(await rt.ask(g, 'go'), 'ran on gpu');
    const round = performance.now() - asked;
    const [cpu, gpu] = rt.resources();
    assert.ok(cpu!.busyMs >= 5, `cpu busy ${cpu!.busyMs}`);
    // Same work, ten times the speed: a tenth of the time the kernel ran, which lies between the
    // spin itself and the whole ask around it (a loaded machine may preempt in between).
    assert.ok(gpu!.busyMs >= ran['gpu']! / 10 && gpu!.busyMs <= round / 10, `gpu busy ${gpu!.busyMs} for a kernel that ran ${ran['gpu']} ms in an ask of ${round} ms`);
  });
});
