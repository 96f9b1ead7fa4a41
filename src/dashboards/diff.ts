import { createTwoFilesPatch } from 'diff';

/** A unified diff (3 lines of context) between two texts; '' when they are equal. */
export function unifiedDiff(name: string, before: string, after: string): string {
  if (before === after) return '';
  const patch = createTwoFilesPatch(`a/${name}`, `b/${name}`, before, after, undefined, undefined, { context: 3 });
  // Drop the "Index:" / "====" preamble jsdiff adds; `git apply` and reviewers want plain ---/+++ headers.
  return patch.replace(/^Index: .*\n=+\n/, '');
}
