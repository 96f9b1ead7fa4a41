export { parseVersion, compareVersions, upgradePath, RELEASE_FACTS, type Version, type UpgradeStage } from './versions.js';
