/**
 * The LSTM forecaster's worker thread: the only file that imports brain.js. Training and
 * inference run here so the event loop of the process hosting the predictors never blocks.
 * Messages are handled one at a time, in order.
 */
import os from 'node:os';
import { parentPort } from 'node:worker_threads';
import brain from 'brain.js';
import type { LstmRequest, LstmResponse } from './lstm-protocol.js';

interface TimeStepNet {
  train(data: number[][], options: { iterations: number; errorThresh: number; learningRate?: number }): { error: number; iterations: number };
  run(input: number[]): number;
  forecast(input: number[], count: number): number[];
  toJSON(): unknown;
  fromJSON(json: unknown): void;
}

type NetConstructor = new (options?: { inputSize: number; hiddenLayers: number[]; outputSize: number }) => TimeStepNet;
const LSTMTimeStep = (brain as unknown as { recurrent: { LSTMTimeStep: NetConstructor } }).recurrent.LSTMTimeStep;

let net: TimeStepNet | undefined;

// Background work: on Linux this lowers this thread only, so training yields the CPU to the
// event loop of the process and to the tasks it hosts. Not permitted everywhere; then it runs at normal priority.
try {
  os.setPriority(os.constants.priority.PRIORITY_LOW);
} catch {
  // keep the default priority
}

function handle(req: LstmRequest): LstmResponse {
  switch (req.type) {
    case 'train': {
      const started = performance.now();
      const fresh = new LSTMTimeStep({ inputSize: 1, hiddenLayers: [req.hiddenSize], outputSize: 1 });
      const stats = fresh.train(req.sequences, { iterations: req.iterations, errorThresh: req.errorThresh, learningRate: req.learningRate });
      net = fresh;
      return { type: 'trained', id: req.id, net: fresh.toJSON(), error: stats.error, iterations: stats.iterations, durationMs: performance.now() - started };
    }
    case 'import': {
      const fresh = new LSTMTimeStep();
      fresh.fromJSON(req.net);
      net = fresh;
      return { type: 'imported', id: req.id };
    }
    case 'infer': {
      if (!net) throw new Error('no trained network');
      return { type: 'inferred', id: req.id, values: net.forecast(req.window, req.steps) };
    }
  }
}

parentPort?.on('message', (req: LstmRequest) => {
  let res: LstmResponse;
  try {
    res = handle(req);
  } catch (err) {
    res = { type: 'failed', id: req.id, reason: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(res);
});
