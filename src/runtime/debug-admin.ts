/** The admin hooks a node adds to its local debug source: drain, migrate, migrations, controller, forecasts. */
import { controllerOps } from './controller-host.js';
import type { DebugSource, LocalDebugSource } from './debug-source.js';
import type { RuntimeImpl } from './runtime.js';

/** The local debug source with the admin hooks this node can serve: drain, migrate, migrations. */
export function adminSource(rt: RuntimeImpl, source: LocalDebugSource): DebugSource {
  return {
    ...source,
    drain: async (resource: string) => {
      const { moved, stayed } = await rt.drainResource(resource);
      return { moved, stayed };
    },
    migrate: (request: { task: string; to?: string }) => rt.migrator.migrate(request.task, request.to === undefined ? {} : { to: request.to }),
    ...(rt.controller ? controllerOps(rt.controller) : {}),
    ...(rt.predictors ? { forecasts: () => rt.forecasts() } : {}),
    // Finished ones, then those in flight (with the path of their actor under /system/controller).
    migrations: () => [...rt.migrator.history, ...rt.migrator.running()].map((r) => ({ ...r, startedAtMs: r.phases[0]?.atMs ?? 0, phase: r.phases.at(-1)?.phase ?? 'propose' })),
  };
}
