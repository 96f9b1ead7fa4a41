/**
 * Deliberate faults for a lab server, so health checks have something to find: a scrape target nothing
 * listens on, and a recording rule that fails at every evaluation because the "one" side of its
 * group_left has two series in the match group {} (many-to-many matching).
 */
export const DEAD_TARGET = '127.0.0.1:1';
export const BROKEN_RULE_EXPR =
  'vector(1) + on() group_left() (vector(1) or label_replace(vector(1), "side", "b", "", ""))';
