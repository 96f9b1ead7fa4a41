export { textTable, mdTable, mdEscape, section } from './table.js';
export {
  esc,
  STATUS_COLORS,
  SVG_CSS,
  timelineSvg,
  passFailSvg,
  lineChartSvg,
  barsSvg,
  type TimelineRow,
  type PassFailRow,
} from './svg.js';
export { shellQuote } from './shell.js';
