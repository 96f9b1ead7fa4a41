export {
  inspectTsdb,
  detectLayout,
  blockDirs,
  listSnapshots,
  lockHolder,
  type TsdbInspection,
  type Layout,
  type LockInfo,
  type SnapshotEntry,
  type InspectOptions,
} from './inspect.js';
export {
  inspectBlock,
  isBlockDir,
  scanChunkSegment,
  ULID_RE,
  type BlockInfo,
  type BlockMeta,
  type Problem,
  type ScanLevel,
  type ChunkSegmentInfo,
} from './block.js';
export {
  inspectWal,
  inspectHeadChunks,
  recordTypeName,
  PAGE_SIZE,
  type WalInfo,
  type HeadChunksInfo,
  type WalSegmentInfo,
} from './wal.js';
export { renderInspectionText, renderInspectionMarkdown } from './render.js';
export { crc32c, crc32cTable, crc32cNative, NATIVE_THRESHOLD } from './crc32c.js';
