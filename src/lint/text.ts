/** Offsets to 1-based line:column, computed once per file. */
export class LineIndex {
  private readonly starts: number[];
  constructor(readonly text: string) {
    this.starts = [0];
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }
  position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo] + 1 };
  }
  lineStart(offset: number): number {
    return this.starts[this.position(offset).line - 1];
  }
  /** Start of the line after the one holding `offset` (text.length at the end). */
  nextLineStart(offset: number): number {
    const nl = this.text.indexOf('\n', offset);
    return nl < 0 ? this.text.length : nl + 1;
  }
}
