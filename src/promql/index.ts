export { parseSelector, formatMatchers, unquote } from './selector.js';
