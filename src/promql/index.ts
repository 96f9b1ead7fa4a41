export {
  parsePromQL,
  nodeText,
  touchesTemplate,
  REMOVED_FUNCTION_PLACEHOLDERS,
  GRAFANA_FUNCTION_PLACEHOLDERS,
  type ParsedPromQL,
  type ParseOptions,
  type SyntaxNode,
  type Tree,
} from './parse.js';
export { maskTemplateVariables, type MaskedRange } from './template.js';
export {
  labelMatchers,
  functionCalls,
  aggregations,
  subqueries,
  matrixSelectors,
  parseDuration,
  formatDuration,
  type LabelMatcherInfo,
  type FunctionCallInfo,
  type SubqueryInfo,
  type MatrixSelectorInfo,
  type Range,
} from './analyse.js';
export { unquotePromQL, quotePromQL } from './strings.js';
export { formatFloatG, parseGoFloat, normaliseLabelFloat } from './gofloat.js';
export { applyEdits, editsOverlap, type TextEdit } from './edits.js';
export { parseSelector, formatMatchers, unquote } from './selector.js';
export { syntaxConstructs, type SyntaxConstructId, type SyntaxConstructUse } from './constructs.js';
export { typeErrors, type ValueType, type Signature, type TypeErrorInfo, type TypeCheckOptions } from './types.js';
