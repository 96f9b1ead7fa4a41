export { parseVersion, compareVersions, upgradePath, RELEASE_FACTS, type Version, type UpgradeStage } from './versions.js';
export { RELEASE_LINES, LATEST, FACTS_AS_OF, releaseLine, resolveTarget, supportStatus, inRange, inAnyRange, INDEX_VERSIONS, META_VERSIONS, CHUNK_ENCODINGS, WAL_RECORD_TYPES, WAL_COMPRESSION, BLOCK_CHUNK_SEGMENT, HEAD_CHUNK_SEGMENT, INDEX_MAGIC, TOMBSTONES_MAGIC, DOWNGRADE_POLICY, REPLAY_LOG_FACTS, type ReleaseLine, type VersionRange, type FormatFact } from './facts.js';
export { CHANGE_FACTS, CONFIG_KEYS_INTRODUCED, DOWNGRADE_LOSSY_FEATURES, type ChangeFact, type ChangePhase, type ChangeKind } from './changes.js';
export { RUNBOOK_CORRECTIONS, type RunbookCorrection } from './runbook.js';
export { dataDirCompatibility, versionVerdict, REFERENCE_VERSIONS, type FormatSummary, type VersionVerdict, type Claim } from './tsdb-compat.js';
