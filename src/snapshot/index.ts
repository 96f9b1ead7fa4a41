export {
  createSnapshot,
  verifySnapshot,
  serverDataDir,
  planPrune,
  applyPrune,
  linkTree,
  ADMIN_API_ADVICE,
  type CreatedSnapshot,
  type SnapshotVerification,
  type BlockVerdict,
  type DeepCheck,
  type PrunePlan,
} from './snapshot.js';
export { SNAPSHOT_MIGRATION, recordVerification, latestVerifications, type VerificationRecord } from './state.js';
export { renderVerificationText, renderVerificationMarkdown } from './render.js';
