export { textTable, mdTable, mdEscape, section } from './table.js';
export { shellQuote } from './shell.js';
