import semver from 'semver';
import { parseVersion, type Version } from './versions.js';

/**
 * Version ranges in npm's semver syntax (">=3.0.0 <3.8.0"), which is what the rule table's "from"/"to"
 * columns read as. Prometheus versions are plain x.y.z, so semver's rules apply unchanged.
 */
export function inRange(version: Version | string, range: string | undefined): boolean {
  if (!range) return true;
  const v = typeof version === 'string' ? parseVersion(version) : version;
  if (!v) return false;
  return semver.satisfies(v.raw, range, { includePrerelease: false });
}

/** a >= b */
export function atLeast(version: Version | string, min: string): boolean {
  const v = typeof version === 'string' ? parseVersion(version) : version;
  const m = parseVersion(min);
  if (!v || !m) return false;
  return semver.gte(v.raw, m.raw);
}
