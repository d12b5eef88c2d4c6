/**
 * The state shapes the `arrow` codec accepts and the schema metadata keys it writes; plain
 * JavaScript, no apache-arrow import (that stays in arrow.ts, loaded lazily).
 */

export type TypedArrayColumn =
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

export type ArrowColumns = { readonly [name: string]: TypedArrayColumn };

export const COLUMN_TYPES: readonly (new (length: number) => TypedArrayColumn)[] = [
  Int8Array,
  Int16Array,
  Int32Array,
  BigInt64Array,
  Uint8Array,
  Uint16Array,
  Uint32Array,
  BigUint64Array,
  Float32Array,
  Float64Array,
];

export const Kinds = { TABLE: 'table', BATCH: 'batch', ARRAY: 'array', COLUMNS: 'columns' } as const;
export type Kind = (typeof Kinds)[keyof typeof Kinds];
export const Shapes = { TABLE: 'table', BATCH: 'batch', COLUMNS: 'columns', PARTS: 'parts' } as const;
export type Shape = (typeof Shapes)[keyof typeof Shapes];

export const KEY = {
  format: 'godwit.arrow',
  shape: 'godwit.shape',
  kind: 'godwit.kind',
  part: 'godwit.part',
  index: 'godwit.index',
  count: 'godwit.count',
  rows: 'godwit.rows',
} as const;
export const OUR_KEYS = new Set<string>(Object.values(KEY));

export function isTypedArrayColumn(value: unknown): value is TypedArrayColumn {
  if (!ArrayBuffer.isView(value)) return false;
  return COLUMN_TYPES.some((ctor) => value instanceof ctor);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function isColumns(value: unknown): value is ArrowColumns {
  if (!isPlainObject(value)) return false;
  const cols = Object.values(value);
  if (cols.length === 0 || !cols.every(isTypedArrayColumn)) return false;
  const length = (cols[0] as TypedArrayColumn).length;
  return cols.every((c) => (c as TypedArrayColumn).length === length);
}
