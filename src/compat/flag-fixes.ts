import type { TextEdit } from '../promql/index.js';
import type { FeatureToken, FlagArg, FlagEditor } from './rule.js';

/**
 * Replaces a --enable-feature token with a stand-alone flag. When the token is the argument's only one
 * the argument itself becomes the new flag (one edit, so it cannot collide with an insertion after it);
 * otherwise the token goes and the flag is added, unless it is already there.
 */
export function swapFeatureForFlag(edit: FlagEditor, args: FlagArg[], arg: FlagArg, tok: FeatureToken, flag: string): TextEdit[] {
  if (!edit.editable) return [];
  const present = args.some((a) => `--${a.name}` === flag);
  if ((arg.features?.length ?? 0) <= 1) return present ? edit.removeArg(arg) : edit.replaceArg(arg, flag);
  return [...edit.removeFeature(arg, tok), ...(present ? [] : edit.addArg(flag) ?? [])];
}
