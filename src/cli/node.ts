/**
 * `godwit server` (a node with the RMS role) and `godwit agent --join URL` (a node that owns
 * resources). Both run until SIGINT or SIGTERM, then shut down cleanly.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { createRuntime, hostCpu, isGodwitError, simulatedDevice, DeviceKinds, type Device, type DeviceKind, type TaskDefinition, type AnyTaskDefinition } from '../index.js';
import type { Output } from './output.js';

export interface NodeCommandOptions {
  role: 'server' | 'agent';
  name: string | undefined;
  host: string | undefined;
  port: string | undefined;
  join: string | undefined;
  secret: string | undefined;
  devices: string | undefined;
  tasks: string | undefined;
  heartbeatMs: string | undefined;
  failureTimeoutMs: string | undefined;
  snapshotIntervalMs: string | undefined;
  logLevel: string | undefined;
  debugPort: string | undefined;
  debugToken: string | undefined;
  debugAdmin: boolean;
}

/** `host` is the real CPU; `cpu`, `gpu:2`, `fpga`, `asic` are simulated devices (`:N` for several). */
export function parseDevices(spec: string, node: string): Device[] {
  const devices: Device[] = [];
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [kind, countText] = part.split(':');
    const count = countText === undefined ? 1 : Number(countText);
    if (!Number.isInteger(count) || count < 1) throw new Error(`bad device count in ${part}`);
    if (kind === 'host') {
      devices.push(hostCpu({ id: `${node}/cpu-host` }));
      continue;
    }
    if (!(DeviceKinds as readonly string[]).includes(kind ?? '')) throw new Error(`unknown device kind ${kind} (use host, ${DeviceKinds.join(', ')})`);
    for (let i = 0; i < count; i++) devices.push(simulatedDevice({ kind: kind as DeviceKind, id: `${node}/${kind}-${i}` }));
  }
  return devices;
}

/** Every export of the module that looks like a task definition. */
async function loadTasks(modulePath: string): Promise<AnyTaskDefinition[]> {
  const mod = (await import(pathToFileURL(path.resolve(modulePath)).href)) as Record<string, unknown>;
  return Object.values(mod).filter(
    (v): v is AnyTaskDefinition =>
      typeof v === 'object' && v !== null && typeof (v as TaskDefinition).name === 'string' && typeof (v as TaskDefinition).receive === 'function',
  );
}

const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));

export async function runNode(o: NodeCommandOptions, out: Output): Promise<number> {
  if (o.role === 'agent' && !o.join) {
    out.error('agent needs --join ws://HOST:PORT (the server\'s URL)');
    return 2;
  }
  const name = o.name ?? `${o.role === 'server' ? 'rms' : 'agent'}-${process.pid}`;
  const generated = o.role === 'server' && !o.secret && !process.env['GODWIT_SECRET'];
  const secret = o.secret ?? process.env['GODWIT_SECRET'] ?? randomBytes(18).toString('base64url');
  const level = (o.logLevel ?? 'warn') as 'warn';
  const options: Parameters<typeof createRuntime>[0] = {
    name,
    logger: { level },
    auth: { secret },
    devices: parseDevices(o.devices ?? (o.role === 'server' ? '' : 'host'), name),
    tasks: o.tasks ? await loadTasks(o.tasks) : [],
    listen: { host: o.host ?? '127.0.0.1', port: num(o.port) ?? (o.role === 'server' ? 7420 : 0) },
  };
  if (o.role === 'server') options.rms = true;
  else options.join = o.join!;
  const hb = num(o.heartbeatMs);
  const ft = num(o.failureTimeoutMs);
  const snap = num(o.snapshotIntervalMs);
  if (hb !== undefined) options.heartbeatIntervalMs = hb;
  if (ft !== undefined) options.failureTimeoutMs = ft;
  if (snap !== undefined) {
    options.snapshotIntervalMs = snap;
    options.snapshotShipIntervalMs = snap;
  }
  const debugToken = o.debugToken ?? process.env['GODWIT_DEBUG_TOKEN'];
  if (o.debugPort !== undefined || debugToken !== undefined) {
    if (!debugToken) {
      out.error('the debug socket needs --debug-token (or GODWIT_DEBUG_TOKEN)');
      return 2;
    }
    options.debug = { port: num(o.debugPort) ?? 0, token: debugToken, admin: o.debugAdmin };
  }
  const rt = createRuntime(options);
  try {
    await rt.ready;
  } catch (err) {
    out.error(`${o.role} could not start: ${isGodwitError(err) ? `${err.code}: ${err.message}` : String(err)}`);
    await rt.shutdown();
    return 1;
  }
  const info = { node: rt.name, role: o.role, url: rt.url, debugUrl: rt.debugUrl ?? null, resources: rt.resources().map((r) => r.id), tasks: (options.tasks ?? []).map((t) => t.name) };
  if (out.json) out.result(generated ? { ...info, secret } : info);
  else {
    out.line(`godwit ${o.role} ${rt.name} listening on ${rt.url}${o.join ? `, joined ${o.join}` : ''}`);
    out.line(`resources: ${info.resources.join(', ') || 'none'}; task types: ${info.tasks.join(', ') || 'none'}`);
    if (info.debugUrl) out.line(`debug socket: ${info.debugUrl}${o.debugAdmin ? ' (admin)' : ' (read-only)'}`);
    if (generated) out.line(`secret (give it to agents with --secret or GODWIT_SECRET): ${secret}`);
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await rt.shutdown();
  return 0;
}
