/**
 * The `arrow` codec: columnar and typed-array state as Apache Arrow IPC streams. This is the only
 * file that imports apache-arrow, and only with a dynamic `import()` inside `loadArrowCodec`, so
 * importing godwit does not pay for Arrow; register it lazily (the default registry does) and
 * `await registry.load('arrow')` once.
 *
 * Accepted state (anything else is a `CodecError` naming the path):
 * - an Arrow `Table` (decodes to a `Table`, all batches, schema metadata kept);
 * - an Arrow `RecordBatch` (decodes to a `RecordBatch`);
 * - a plain object of *columns*: every value a typed array of one length (Int8/16/32, BigInt64,
 *   Uint8/16/32, BigUint64, Float32/64; not Uint8ClampedArray): one stream, decodes to the same
 *   plain object of typed arrays (`Buffer` comes back as `Uint8Array`);
 * - a plain object of *parts*: at least one entry, each a `Table`, a `RecordBatch`, a typed array
 *   (any length), or a columns object: one stream a part, concatenated; decodes to the same shape.
 *
 * Layout: a 16-byte godwit prefix (magic, a CRC-32C of the IPC framing and metadata, message
 * count; see arrow-frame.ts, which checks them before apache-arrow parses anything), then a
 * concatenation of Arrow IPC streams (schema, batches, end marker): strip the first 16 bytes to
 * hand the rest to any Arrow reader. Each stream's schema metadata carries `godwit.arrow`
 * (format 1), `godwit.shape` (table | batch | columns | parts), `godwit.kind`, `godwit.part`
 * (name), `godwit.index` / `godwit.count` (part position and total) and `godwit.rows`; decode
 * checks them all, so foreign Arrow data, a dropped part or a dropped batch is a `CodecError`
 * rather than a smaller state. User metadata keys starting with `godwit.` are not preserved.
 *
 * Copies: encode copies every buffer once into the contiguous output. Decode is zero-copy: typed-array columns and Table buffers are views over the input bytes, provided
 * the input starts at an 8-byte-aligned offset (the snapshot envelope and chunk assembler keep
 * it so); misaligned input is copied once first. A columns stream written by another producer
 * with several batches is concatenated (copied).
 */
import type * as Arrow from 'apache-arrow';
import { newArrowPrefix, openArrowPayload, sealArrowPayload } from './arrow-frame.js';
import {
  type ArrowColumns,
  COLUMN_TYPES,
  isColumns,
  isPlainObject,
  isTypedArrayColumn,
  KEY,
  type Kind,
  Kinds,
  OUR_KEYS,
  type Shape,
  Shapes,
  type TypedArrayColumn,
} from './arrow-shapes.js';
import type { Codec } from './codec.js';
import { CodecError, CodecOperations, wrapCodecError } from './errors.js';

type ArrowModule = typeof import('apache-arrow');

export type { ArrowColumns, TypedArrayColumn } from './arrow-shapes.js';

export type ArrowPart = Arrow.Table | Arrow.RecordBatch | TypedArrayColumn | ArrowColumns;
export type ArrowState = Arrow.Table | Arrow.RecordBatch | ArrowColumns | { readonly [name: string]: ArrowPart };

/** Bytes of schema and framing an IPC stream adds (rough, for `estimateSize`). */
const STREAM_OVERHEAD_BYTES = 512;

function encodeError(reason: string): CodecError {
  return new CodecError({ codec: 'arrow', operation: CodecOperations.ENCODE, reason });
}

/** A name that would set an object's prototype on decode instead of a key: refused up front, not lost later. */
function checkName(name: string, what: string): void {
  if (name === '__proto__') throw encodeError(`a ${what} cannot be named __proto__`);
}

function decodeError(reason: string): CodecError {
  return new CodecError({ codec: 'arrow', operation: CodecOperations.DECODE, reason });
}

let loaded: Promise<Codec> | undefined;

/** Imports apache-arrow (once) and returns the synchronous `arrow` codec. */
export function loadArrowCodec(): Promise<Codec> {
  loaded ??= import('apache-arrow').then(
    (arrow) => makeArrowCodec(arrow),
    (err: unknown) => {
      loaded = undefined;
      throw wrapCodecError('arrow', CodecOperations.LOAD, err);
    },
  );
  return loaded;
}

function makeArrowCodec(A: ArrowModule): Codec {
  interface Stream {
    kind: Kind;
    part: string | undefined;
    table: Arrow.Table;
  }

  function columnsTable(columns: ArrowColumns): Arrow.Table {
    const vectors: Record<string, Arrow.Vector> = {};
    for (const [name, column] of Object.entries(columns)) {
      checkName(name, 'column');
      vectors[name] = A.makeVector(column);
    }
    return new A.Table(vectors);
  }

  function partStream(value: unknown, part: string): Stream {
    if (A.isArrowTable(value)) return { kind: Kinds.TABLE, part, table: value };
    if (A.isArrowRecordBatch(value)) return { kind: Kinds.BATCH, part, table: new A.Table(value) };
    if (isTypedArrayColumn(value)) return { kind: Kinds.ARRAY, part, table: columnsTable({ [part]: value }) };
    if (isColumns(value)) return { kind: Kinds.COLUMNS, part, table: columnsTable(value) };
    throw encodeError(`part $.${part} is not a table, record batch, typed array or object of equal-length typed arrays`);
  }

  function plan(state: unknown): { shape: Shape; streams: Stream[] } {
    if (A.isArrowTable(state)) return { shape: Shapes.TABLE, streams: [{ kind: Kinds.TABLE, part: undefined, table: state }] };
    if (A.isArrowRecordBatch(state)) {
      return { shape: Shapes.BATCH, streams: [{ kind: Kinds.BATCH, part: undefined, table: new A.Table(state) }] };
    }
    if (isColumns(state)) return { shape: Shapes.COLUMNS, streams: [{ kind: Kinds.COLUMNS, part: undefined, table: columnsTable(state) }] };
    if (!isPlainObject(state)) {
      throw encodeError('state must be an arrow table, a record batch, or a plain object of typed arrays, tables and record batches');
    }
    const entries = Object.entries(state);
    if (entries.length === 0) throw encodeError('state must have at least one part');
    for (const [name] of entries) checkName(name, 'part');
    return { shape: Shapes.PARTS, streams: entries.map(([name, value]) => partStream(value, name)) };
  }

  function writeStream(sink: Arrow.AsyncByteQueue, shape: Shape, stream: Stream, index: number, count: number): void {
    const { table } = stream;
    const metadata = new Map(table.schema.metadata);
    metadata.set(KEY.format, '1');
    metadata.set(KEY.shape, shape);
    metadata.set(KEY.kind, stream.kind);
    if (stream.part !== undefined) metadata.set(KEY.part, stream.part);
    metadata.set(KEY.index, String(index));
    metadata.set(KEY.count, String(count));
    metadata.set(KEY.rows, String(table.numRows));
    const tagged = new A.Table(new A.Schema(table.schema.fields, metadata), table.batches);
    // autoDestroy off: finish() ends this stream (end-of-stream marker) and leaves the shared sink open.
    const writer = new A.RecordBatchStreamWriter({ autoDestroy: false });
    writer.reset(sink, tagged.schema);
    writer.write(tagged);
    writer.finish();
  }

  function encode(state: unknown): Uint8Array {
    const { shape, streams } = plan(state);
    try {
      // Every stream goes into one queue behind the prefix; joining it is the only copy of the data.
      const sink = new A.AsyncByteQueue();
      sink.write(newArrowPrefix());
      streams.forEach((s, i) => writeStream(sink, shape, s, i, streams.length));
      const payload = sink.toUint8Array(true);
      sealArrowPayload(payload);
      return payload;
    } catch (err) {
      throw wrapCodecError('arrow', CodecOperations.ENCODE, err);
    }
  }

  function userSchema(schema: Arrow.Schema): Arrow.Schema {
    const metadata = new Map([...schema.metadata].filter(([k]) => !OUR_KEYS.has(k)));
    return new A.Schema(schema.fields, metadata);
  }

  /** A typed array over one primitive column: a view when the column is one chunk. */
  function columnArray(table: Arrow.Table, index: number, where: string): TypedArrayColumn {
    const vector = table.getChildAt(index);
    const field = table.schema.fields[index];
    const ctor = field?.type.ArrayType as unknown;
    if (vector === null || field === undefined || !COLUMN_TYPES.some((c) => c === ctor) || !(A.DataType.isInt(field.type) || A.DataType.isFloat(field.type))) {
      throw decodeError(`column ${index} of ${where} is not a primitive numeric column`);
    }
    if (field.type.typeId === A.Type.Float && (field.type as Arrow.Float).precision === A.Precision.HALF) {
      throw decodeError(`column ${index} of ${where} is float16, which has no typed array`);
    }
    if (vector.nullCount > 0) throw decodeError(`column ${index} of ${where} has nulls`);
    if (vector.data.length === 1) {
      const data = vector.data[0]!;
      const values = data.values as unknown;
      if (!(values instanceof (ctor as new () => TypedArrayColumn)) || (values as TypedArrayColumn).length < data.offset + data.length) {
        throw decodeError(`column ${index} of ${where} has a short values buffer`);
      }
      return (values as TypedArrayColumn).subarray(data.offset, data.offset + data.length);
    }
    return vector.toArray() as TypedArrayColumn;
  }

  function readColumns(table: Arrow.Table, where: string): Record<string, TypedArrayColumn> {
    const out: Record<string, TypedArrayColumn> = {};
    table.schema.fields.forEach((field, i) => {
      out[field.name] = columnArray(table, i, where);
    });
    return out;
  }

  function meta(schema: Arrow.Schema, key: string, where: string): string {
    const value = schema.metadata.get(key);
    if (value === undefined) throw decodeError(`${where} lacks ${key} metadata (not a godwit arrow payload)`);
    return value;
  }

  function readStreams(bytes: Uint8Array): unknown {
    let shape: string | undefined;
    let count = 0;
    let index = 0;
    let single: unknown;
    const parts: Record<string, unknown> = {};
    for (const reader of A.RecordBatchReader.readAll(bytes)) {
      const batches = [...reader];
      const schema = reader.schema;
      const where = `stream ${index}`;
      if (meta(schema, KEY.format, where) !== '1') throw decodeError(`${where} has an unknown format version`);
      const streamShape = meta(schema, KEY.shape, where);
      const streamCount = Number(meta(schema, KEY.count, where));
      if (shape === undefined) {
        shape = streamShape;
        count = streamCount;
        if (!Number.isSafeInteger(count) || count < 1 || (shape !== Shapes.PARTS && count !== 1)) throw decodeError(`${where} declares ${count} parts`);
      }
      if (streamShape !== shape || streamCount !== count || meta(schema, KEY.index, where) !== String(index) || index >= count) {
        throw decodeError(`${where} is out of place (parts reordered, dropped or mixed)`);
      }
      const table = new A.Table(userSchema(schema), batches);
      if (meta(schema, KEY.rows, where) !== String(table.numRows)) throw decodeError(`${where} has ${table.numRows} rows, fewer or more than written`);
      const kind = meta(schema, KEY.kind, where);
      let value: unknown;
      if (kind === Kinds.TABLE) value = table;
      else if (kind === Kinds.BATCH) {
        if (batches.length !== 1) throw decodeError(`${where} holds ${batches.length} batches, not one record batch`);
        value = new A.RecordBatch(table.schema, batches[0]!.data);
      } else if (kind === Kinds.COLUMNS) value = readColumns(table, where);
      else if (kind === Kinds.ARRAY) {
        if (table.numCols !== 1) throw decodeError(`${where} holds ${table.numCols} columns, not one array`);
        value = columnArray(table, 0, where);
      } else throw decodeError(`${where} has unknown kind ${kind}`);
      if (shape === Shapes.PARTS) {
        const part = meta(schema, KEY.part, where);
        if (Object.hasOwn(parts, part)) throw decodeError(`${where} repeats part ${part}`);
        parts[part] = value;
      } else {
        if (kind !== shape) throw decodeError(`${where} is a ${kind} inside a ${shape} payload`);
        single = value;
      }
      index++;
    }
    if (shape === undefined) throw decodeError('the payload holds no arrow stream');
    if (index !== count) throw decodeError(`the payload holds ${index} of ${count} parts`);
    return shape === Shapes.PARTS ? parts : single;
  }

  function decode(bytes: Uint8Array): unknown {
    if (!(bytes instanceof Uint8Array)) throw decodeError('input is not a Uint8Array');
    const ipc = openArrowPayload(bytes);
    if (typeof ipc === 'string') throw decodeError(ipc);
    // Arrow needs 8-byte-aligned buffers to view typed arrays in place; copy once otherwise.
    const input = ipc.byteOffset % 8 === 0 ? ipc : ipc.slice();
    try {
      return readStreams(input);
    } catch (err) {
      throw wrapCodecError('arrow', CodecOperations.DECODE, err);
    }
  }

  function estimateSize(state: unknown): number {
    const tableBytes = (t: Arrow.Table) => t.batches.reduce((n, b) => n + b.data.byteLength, 0);
    const one = (v: unknown): number => {
      if (A.isArrowTable(v)) return tableBytes(v) + STREAM_OVERHEAD_BYTES;
      if (A.isArrowRecordBatch(v)) return v.data.byteLength + STREAM_OVERHEAD_BYTES;
      if (isTypedArrayColumn(v)) return v.byteLength + STREAM_OVERHEAD_BYTES;
      if (isPlainObject(v)) return Object.values(v).reduce<number>((n, x) => n + (isTypedArrayColumn(x) ? x.byteLength : one(x)), STREAM_OVERHEAD_BYTES);
      return 0;
    };
    return one(state);
  }

  return Object.freeze({ name: 'arrow', encode, decode, estimateSize });
}
