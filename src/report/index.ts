export { textTable, mdTable, mdEscape, section } from './table.js';
