/**
 * The migration controller's view of the node it runs on: the whole cluster from the RMS (rows
 * gathered from every member), this node alone otherwise. Forecasts come from the option given,
 * or from godwit's forecasters over the resources' monitor samples in the metric store.
 */
import { MigrationController, type ControllerHost, type ControllerOptions } from '../actors/migration-controller.js';
import { createSampleForecasts, type ForecastSource } from '../controller/forecasts.js';
import { UnknownResourceError } from '../errors.js';
import { createClusterDebugSource } from './debug-cluster-source.js';
import { createLocalDebugSource, type DebugResource, type DebugSource } from './debug-source.js';
import type { RuntimeImpl } from './runtime.js';

export const PowerRequest = 'controller.power';

export interface RuntimeControllerOptions extends ControllerOptions {
  /** Forecasts and failure probabilities (default: the runtime's predictors; without them, godwit's forecasters over the utilization samples). */
  forecasts?: ForecastSource;
}

/** The debug socket's controller operations over a controller. */
export function controllerOps(c: MigrationController): Required<Pick<DebugSource, 'suspendController' | 'resumeController' | 'controller' | 'setControllerMode'>> {
  return {
    suspendController: () => (c.suspend(), c.status()),
    resumeController: () => (c.resume(), c.status()),
    controller: (limit) => ({ status: c.status(), decisions: c.decisions(limit) }),
    setControllerMode: (mode) => (c.setMode(mode), c.status()),
  };
}

export function createRuntimeController(rt: RuntimeImpl, options: RuntimeControllerOptions, predictors?: ForecastSource): { controller: MigrationController; close(): void } {
  const own = rt.debugSource ? undefined : createLocalDebugSource(rt);
  const local = rt.debugSource ?? own!;
  const source: DebugSource = rt.cluster?.rms ? createClusterDebugSource(local, rt.cluster, rt.log) : local;
  let known: string[] = [];
  const stepMs = rt.options.monitor?.intervalMs ?? 1000;
  const { forecasts: given, ...controllerOptions } = options;
  const horizonMs = controllerOptions.horizonMs ?? 30_000;
  const forecasts =
    given ??
    predictors ??
    createSampleForecasts(
      {
        resources: () => known,
        utilization: (resource, sinceMs) =>
          rt.metricStore.query(resource, { metric: 'utilization', resolution: 'raw', ...(Number.isFinite(sinceMs) ? { sinceMs: sinceMs + 1e-6 } : {}) }),
      },
      { stepMs, horizonMs },
    );
  const host: ControllerHost = {
    clock: rt.clock,
    log: rt.log.child({ actor: 'controller' }),
    async resources(): Promise<readonly DebugResource[]> {
      const rows = await source.resources();
      known = rows.map((r) => r.id);
      return rows;
    },
    tasks: async () => source.tasks(),
    definition: (task) => rt.registry.get(task) as ReturnType<ControllerHost['definition']>,
    forecasts,
    migrate: (taskId, to, mode) => rt.migrator.migrate(taskId, { to, mode }),
    async setPowerState(resource, state) {
      if (rt.resourceActors.has(resource)) return rt.setPowerState(resource, state);
      const owner = rt.cluster ? [...rt.cluster.members.values()].find((m) => m.resources.some((r) => r.id === resource)) : undefined;
      if (!owner || !rt.cluster) throw new UnknownResourceError(resource);
      await rt.cluster.request(owner.node, PowerRequest, { resource, state }, 2000);
    },
    emit: (e) => rt.emit(e),
  };
  return { controller: new MigrationController(host, controllerOptions), close: () => own?.close() };
}
