export {
  runBlocks,
  BLOCKS_DEFAULTS,
  DAY_MS,
  HOUR_MS,
  blockEnd,
  defaultBlockDuration,
  type BlocksParams,
} from './run.js';
export { renderBlocksText, renderBlocksMarkdown, type BlocksReport, type BlocksTarget } from './report.js';
export { BlockWriter, existingBlock, TMP_SUFFIX, type BlockMetaJson, type WrittenBlock } from './block-writer.js';
export { writeIndex, compareLabelSets, type BlockSeries } from './index-writer.js';
export { encodeXorChunks, type EncodedChunk } from './xor-encode.js';
export { chunksForBlock, streamRawSeries, type RawSeries, type BlockChunk } from './source.js';
export { MimirBlockUploader, type UploadOutcome } from './mimir-upload.js';
export { ulidFrom } from './ulid.js';
export { compareUtf8 } from './bytes.js';
