import type { TextEdit } from '../promql/index.js';
import { featureFlagSince, featureFlagsOf, type FeatureFlagFact, type FeatureFlagRuleId } from './migration-facts.js';
import { atLeast } from './ranges.js';
import type { FeatureToken, FlagArg, FlagEditor, FlagsContext } from './rule.js';

/**
 * Calls `each` for every --enable-feature token that FEATURE_FLAGS assigns to `rule`, once the target has
 * reached the release that changes it: the rule files decide what to say, the facts decide which tokens.
 */
export function eachFeatureToken(
  ctx: FlagsContext,
  rule: FeatureFlagRuleId,
  each: (arg: FlagArg, tok: FeatureToken, fact: FeatureFlagFact) => void,
): void {
  const facts = featureFlagsOf(rule);
  for (const arg of ctx.args) {
    for (const tok of arg.features ?? []) {
      const fact = facts.find((f) => f.name === tok.name);
      if (fact && atLeast(ctx.to, featureFlagSince(fact))) each(arg, tok, fact);
    }
  }
}

/** "a, b and c": the flag names a rule's description lists. */
export function featureNames(rule: FeatureFlagRuleId): string {
  const names = featureFlagsOf(rule).map((f) => f.name);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names.join('');
}

/**
 * Replaces a --enable-feature token with a stand-alone flag. When the token is the argument's only one
 * the argument itself becomes the new flag (one edit, so it cannot collide with an insertion after it);
 * otherwise the token goes and the flag is added, unless it is already there.
 */
export function swapFeatureForFlag(
  edit: FlagEditor,
  args: FlagArg[],
  arg: FlagArg,
  tok: FeatureToken,
  flag: string,
): TextEdit[] {
  if (!edit.editable) return [];
  const present = args.some((a) => `--${a.name}` === flag);
  if ((arg.features?.length ?? 0) <= 1) return present ? edit.removeArg(arg) : edit.replaceArg(arg, flag);
  return [...edit.removeFeature(arg, tok), ...(present ? [] : (edit.addArg(flag) ?? []))];
}
