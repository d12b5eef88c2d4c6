import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuthError, createRuntime, simulatedDevice, type Runtime } from '../../src/index.js';
import { counter } from '../fixtures.js';

describe('cluster over TLS (wss)', function () {
  this.timeout(30_000);
  let dir = '';
  let cert: Buffer;
  let key: Buffer;
  const nodes: Runtime[] = [];

  before(function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'godwit-tls-'));
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`], { stdio: 'ignore', timeout: 20_000 });
    if (made.status !== 0) this.skip(); // no openssl on this machine: nothing to make a certificate with
    cert = readFileSync(`${dir}/cert.pem`);
    key = readFileSync(`${dir}/key.pem`);
  });

  after(async () => {
    await Promise.all(nodes.map((n) => n.shutdown()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('forms a cluster over wss and refuses a dialer that does not trust the certificate', async () => {
    const secret = 'tls-test-secret';
    const rms = createRuntime({ name: 'rms', rms: true, auth: { secret }, tls: { cert, key, ca: cert }, devices: [], tasks: [counter], logger: { level: 'silent' } });
    nodes.push(rms);
    await rms.ready;
    assert.match(rms.url!, /^wss:\/\/127\.0\.0\.1:\d+$/);
    const a = createRuntime({ name: 'a', join: rms.url!, auth: { secret }, tls: { cert, key, ca: cert }, devices: [simulatedDevice({ kind: 'gpu', id: 'a/gpu-0' })], tasks: [counter], logger: { level: 'silent' } });
    nodes.push(a);
    await a.ready;
    const ref = a.spawn(counter, { input: 2 });
    assert.equal(await rms.ask(ref, { type: 'get' }), 2);

    const untrusting = createRuntime({ name: 'b', join: rms.url!, auth: { secret }, devices: [], logger: { level: 'silent' } });
    nodes.push(untrusting);
    await assert.rejects(untrusting.ready, (err: unknown) => !(err instanceof AuthError) && /certificate/i.test(String((err as Error).message)));
  });
});
