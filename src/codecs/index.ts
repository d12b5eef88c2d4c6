/**
 * Task state serialization: codecs, the codec registry, the snapshot envelope, chunk streams and
 * partitioned state. Re-exported from the package entry; heavy codecs (arrow, protobuf) load
 * their library lazily, so importing this module stays cheap.
 */
export { DEFAULT_CODEC, isCodec, isLazyCodec, codecNameOf } from './codec.js';
export type { Codec, LazyCodec, CodecChoice } from './codec.js';
export { createCodecRegistry, defaultCodecRegistry, lazyArrowCodec } from './registry.js';
export type { CodecRegistry, CodecRegistryOptions } from './registry.js';
export { cborCodec, cborEncode, cborDecode, estimateCborSize, TASK_REF_CBOR_TAG } from './cbor.js';
export { jsonCodec, jsonEncode, jsonDecode } from './json.js';
export { createProtobufCodec, protobufCodecFromType, DEFAULT_PROTOBUF_CONVERSION } from './protobuf.js';
export type { ProtobufCodecOptions, ProtobufType, ProtobufConversionOptions } from './protobuf.js';
// arrow.ts is loaded only through the registry (`await registry.load('arrow')`); its types are free.
export type { ArrowState, ArrowPart, ArrowColumns, TypedArrayColumn } from './arrow.js';
export { crc32c, crc32cCombine } from './crc32c.js';
export { checksumOf, combineChecksums } from './checksums.js';
export type { ChecksumKind } from './checksums.js';
export {
  sealSnapshot,
  openSnapshot,
  readSnapshotHeader,
  Compressions,
  SNAPSHOT_MAGIC,
  SNAPSHOT_FORMAT_VERSION,
  SNAPSHOT_FIXED_HEADER_BYTES,
  snapshotHeaderBytes,
  writeSnapshotHeader,
} from './envelope.js';
export type { SnapshotHeader, SnapshotHeaderFields, SealOptions, OpenOptions, Compression } from './envelope.js';
export {
  encodeSnapshot,
  decodeSnapshot,
  snapshotState,
  restoreState,
  snapshotStateAsync,
  restoreStateAsync,
  roundTripState,
} from './snapshot.js';
export type {
  SnapshotSubject,
  EncodeSnapshotOptions,
  DecodeSnapshotOptions,
  DecodedSnapshot,
  SnapshotExpectation,
  SnapshotStateOptions,
  RestoreStateOptions,
} from './snapshot.js';
export { ChunkProducer, createChunkStream, chunkCount, readChunkHeader, CHUNK_HEADER_BYTES, DEFAULT_CHUNK_BYTES } from './chunk-format.js';
export type { ChunkHeader, ChunkStreamOptions } from './chunk-format.js';
export { ChunkAssembler } from './chunk-assembler.js';
export type { ChunkAssemblerOptions, ChunkProgress } from './chunk-assembler.js';
export { PartitionedState, DEFAULT_PARTITION_COUNT } from './partitioned-state.js';
export type { PartitionedStateOptions } from './partitioned-state.js';
export { partitionOfKey, PARTITIONED_SNAPSHOT_FORMAT, PARTITIONED_DELTA_FORMAT } from './partitioned-format.js';
export type { PartitionedSnapshot, PartitionedDelta, PartitionData, PartitionPatch } from './partitioned-format.js';
export { CodecError, CodecNotLoadedError, SnapshotVersionError, UnknownCodecError, CodecOperations } from './errors.js';
export type { CodecErrorData, CodecOperation } from './errors.js';
