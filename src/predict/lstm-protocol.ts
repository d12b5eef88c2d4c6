/** Messages between the LSTM forecaster and its worker thread (structured-clone plain objects). */
export type LstmRequest =
  | { type: 'train'; id: number; sequences: number[][]; hiddenSize: number; iterations: number; errorThresh: number; learningRate: number }
  | { type: 'import'; id: number; net: unknown }
  | { type: 'infer'; id: number; window: number[]; steps: number };

export type LstmResponse =
  | { type: 'trained'; id: number; net: unknown; error: number; iterations: number; durationMs: number }
  | { type: 'imported'; id: number }
  | { type: 'inferred'; id: number; values: number[] }
  | { type: 'failed'; id: number; reason: string };
