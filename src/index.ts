/**
 * godwit: an actor runtime for Node.js that moves running, stateful tasks between compute
 * resources before trouble arrives. This is the only public entry.
 */
export { createRuntime } from './runtime/runtime.js';
export type { Runtime, SpawnOptions, TaskInfo } from './runtime/runtime.js';
export type { RuntimeOptions } from './runtime/options.js';
export { defineTask, Strategy } from './actors/task.js';
export type {
  TaskDefinition,
  AnyTaskDefinition,
  TaskContext,
  Kernel,
  Demand,
  SupervisionOptions,
  BackoffOptions,
  AskOptions,
  SpawnChildOptions,
  ResourceInfoForTask,
} from './actors/task.js';
export { TaskRef, isTaskRef } from './actors/ref.js';
export { OverflowPolicy } from './actors/mailbox.js';
export type { MailboxOptions } from './actors/mailbox.js';
export type { ResourceInfo } from './actors/resource.js';
export type { Affinity, AffinityTerm } from './runtime/placement.js';
export { systemClock, createManualClock } from './runtime/clock.js';
export type { Clock, ManualClock, TimerHandle } from './runtime/clock.js';
export type { Logger, LoggerOptions } from './runtime/logger.js';
export type { RuntimeEvent, RuntimeEventType, Directive, StopReason, DeadLetterReason } from './runtime/event-types.js';
export type { EventListener, Subscription } from './runtime/events.js';
export { DeviceKinds } from './devices/device.js';
export type { Device, DeviceKind, PowerModel } from './devices/device.js';
export { simulatedDevice } from './devices/simulated.js';
export type { SimulatedDeviceOptions } from './devices/simulated.js';
export { hostCpu } from './devices/host-cpu.js';
export { CoreMetrics, nullMetrics, syncSampler } from './devices/plugin.js';
export type { DevicePlugin, SyncDevicePlugin, DeviceSample, DiscoveredDevice, DeviceMetrics, PluginStatus, DevicePluginEvent } from './devices/plugin.js';
export { createCpuPlugin } from './devices/cpu-plugin.js';
export type { CpuPluginOptions } from './devices/cpu-plugin.js';
export { createNvidiaSmiPlugin } from './devices/nvidia-smi.js';
export { ThrottleReasons, describeThrottleReasons } from './devices/nvidia-smi-parser.js';
export { createVendorPlugin } from './devices/vendor-adapter.js';
export type { VendorAdapter, VendorDevice, VendorReading } from './devices/vendor-adapter.js';
export { createXbutilAdapter } from './devices/xbutil.js';
export { createHwmonAdapter } from './devices/hwmon-adapter.js';
export { createSimDevice } from './devices/sim-device.js';
export type { SimDevice, SimDeviceOptions, SimIncident, SimScript } from './devices/sim-device.js';
export { readTrace, readNabCsv, readPlanetLab, readBitbrains, readAzureCsv, traceValueAt, TraceFormats } from './devices/traces.js';
export type { TraceSeries } from './devices/traces.js';
export { DeviceSourceError, DeviceCommandError, TraceFormatError } from './devices/device-errors.js';
export type { HostCpuOptions } from './devices/host-cpu.js';
export {
  ErrorCodes,
  GodwitError,
  isGodwitError,
  InvalidArgumentError,
  UnknownTaskError,
  DuplicateTaskError,
  AskTimeoutError,
  NoReplyError,
  MailboxFullError,
  TaskCrashedError,
  TaskStoppedError,
  NoResourceError,
  UnknownResourceError,
  RuntimeShutDownError,
  TransportError,
  AuthError,
  NodeDownError,
  LinkOverloadedError,
  ReplayBufferFullError,
  UnknownTaskTypeError,
  MigrationInProgressError,
  MigrationTimeoutError,
  ParentUnreachableError,
} from './errors.js';
export type { MigrationReport, MigrateOptions, MigrationPhase } from './runtime/migration.js';
export type { ClusterOptions } from './runtime/cluster/types.js';
export { startDebugServer } from './runtime/debug-socket.js';
export type { DebugServer, DebugServerOptions } from './runtime/debug-socket.js';
export { createLocalDebugSource } from './runtime/debug-source.js';
export type { DebugSource, LocalDebugSource, DebugTask, DebugResource, DebugDeadLetter, DebugMigration } from './runtime/debug-source.js';
export { connectDebugSocket } from './runtime/debug-client.js';
export type { DebugClient, DebugClientOptions } from './runtime/debug-client.js';
export type { ErrorCode, UnmetConstraint } from './errors.js';
export {
  DEFAULT_CODEC,
  isCodec,
  isLazyCodec,
  codecNameOf,
  createCodecRegistry,
  defaultCodecRegistry,
  cborCodec,
  cborEncode,
  cborDecode,
  jsonCodec,
  createProtobufCodec,
  protobufCodecFromType,
  crc32c,
  Compressions,
  encodeSnapshot,
  decodeSnapshot,
  snapshotState,
  restoreState,
  snapshotStateAsync,
  restoreStateAsync,
  roundTripState,
  createChunkStream,
  ChunkAssembler,
  DEFAULT_CHUNK_BYTES,
  PartitionedState,
  partitionOfKey,
  CodecError,
  CodecNotLoadedError,
  SnapshotVersionError,
  UnknownCodecError,
} from './codecs/index.js';
export type {
  Codec,
  LazyCodec,
  CodecChoice,
  CodecRegistry,
  ArrowState,
  TypedArrayColumn,
  ProtobufCodecOptions,
  SnapshotSubject,
  Compression,
  ChunkProducer,
  PartitionedSnapshot,
  PartitionedDelta,
} from './codecs/index.js';
export type { MetricPoint, BucketPoint, MetricQuery, MetricStoreOptions } from './runtime/metrics/metric-store.js';
export type { MonitorOptions, DeviceSampler, Metrics } from './runtime/metrics/monitor.js';
export type { PrometheusOptions } from './runtime/metrics/prometheus.js';
export { MigrationController } from './actors/migration-controller.js';
export type { ControllerOptions, ControllerHost, ControllerStatus } from './actors/migration-controller.js';
export type { RuntimeControllerOptions } from './runtime/controller-host.js';
export { planTick } from './controller/plan.js';
export type { PlanResult } from './controller/plan.js';
export { Damper } from './controller/damping.js';
export { resolvePolicy, defaultPolicy, ControllerModes } from './controller/options.js';
export type { PolicyOptions, ResolvedPolicy, ControllerMode } from './controller/options.js';
export { shortfall } from './controller/cost.js';
export { createSampleForecasts } from './controller/forecasts.js';
export type { ForecastSource, SampleReader } from './controller/forecasts.js';
export { DecisionActions } from './controller/model.js';
export type { ClusterView, ResourceView, TaskView, Decision, DecisionAction, CostTerms, Quantiles } from './controller/model.js';
export { HoltWintersForecaster, detectPeriod } from './predict/seasonal.js';
export type { HoltWintersOptions, PeriodDetectionOptions } from './predict/seasonal.js';
export { LstmForecaster } from './predict/lstm.js';
export type { LstmOptions, LstmModel, LstmTrainedEvent } from './predict/lstm.js';
export { FailurePredictor, FailureWarning } from './predict/failure.js';
export type { FailurePredictorOptions, FailureRisk, FailureWarningOptions, WarningTransition } from './predict/failure.js';
export { evaluateFailureWarnings } from './predict/failure-eval.js';
export type { FailureEvaluation, FailureEvent, FailureWindow, FailureEvalOptions } from './predict/failure-eval.js';
export { ResourcePredictor, DEFAULT_HORIZONS_MS } from './predict/resource-predictor.js';
export type { Forecast, ClusterTrend, ResourcePredictorOptions, ResourcePredictorState } from './predict/resource-predictor.js';
export { PredictorBank } from './predict/predictor-bank.js';
export type { PredictorDefaults, PredictorBankState } from './predict/predictor-bank.js';
export type { Reservation } from './predict/reservations.js';
export { predictTaskPerformance } from './predict/performance.js';
export type { TaskCostProfile, UtilizationForecast, PerformanceOptions, PredictedPerformance } from './predict/performance.js';
export { ForecastModelError } from './errors.js';
export { runSimulation, defaultInitialPlacement } from './sim/engine.js';
export type { SimResult } from './sim/engine.js';
export type { SimPolicy, SimView, SimMigration, SimSetup, SimWorkload, SimHostSpec, EnergyModel } from './sim/types.js';
export type { SimMetrics } from './sim/metrics.js';
export { SimPlan } from './sim/plan.js';
export { pabfd, findHostForVm, powerIncrease, selectMinimumMigrationTime, unloadOverloadedHosts, consolidateUnderloadedHosts } from './sim/placement.js';
export type { VmSelection } from './sim/placement.js';
export { thresholdDetector, iqrDetector, madDetector, lrDetector } from './sim/detectors.js';
export type { OverloadDetector } from './sim/detectors.js';
export { powerAt, POWER_G4, POWER_G5 } from './sim/power.js';
export type { PowerTable } from './sim/power.js';
export { createMigrationPolicy, createBaselinePolicy, createDvfsPolicy, createNpaPolicy, consolidationRound, initialPabfd } from './sim/policies/baselines.js';
export { createPredictiveNaivePolicy } from './sim/policies/predictive-naive.js';
export { createGodwitPolicy, godwitSimDefaults } from './sim/policies/godwit.js';
export type { GodwitPolicyOptions } from './sim/policies/godwit.js';
export type { PredictiveNaiveOptions } from './sim/policies/predictive-naive.js';
export { loadPlanetLabDay, planetlabSetup, planetlabWorkload, planetlabHosts } from './sim/planetlab.js';
export { syntheticSetup } from './sim/synthetic.js';
export { loadTraceSetup } from './sim/trace-workload.js';
export { runDay, medianReports, createPolicy, PLANETLAB_POLICIES } from './sim/benchmark.js';
export type { PolicyReport, BenchmarkDay } from './sim/benchmark.js';
export { renderBenchmarkSvg } from './sim/svg-plot.js';
