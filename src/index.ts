/** Library entry point: the same capabilities the CLI drives. */
export * as config from './config/index.js';
export * as http from './http/index.js';
export * as clients from './clients/index.js';
export * as compat from './compat/index.js';
export * as assess from './assess/index.js';
export * as promql from './promql/index.js';
export * as lint from './lint/index.js';
export * as lab from './lab/index.js';
export * as dashboards from './dashboards/index.js';
export * as verify from './verify/index.js';
export * as migrate from './migrate/index.js';
export * as lgtm from './lgtm/index.js';
export * as ruler from './ruler/index.js';
export * as alerts from './alerts/index.js';
export { StackshiftError, UsageError, InputError } from './errors/index.js';
