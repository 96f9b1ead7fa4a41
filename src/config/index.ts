export {
  ConfigSchema,
  EndpointSchema,
  ENDPOINT_TYPES,
  type EndpointType,
  type EndpointConfig,
  type StackshiftConfig,
} from './schema.js';
export {
  loadConfig,
  parseConfigText,
  parseYamlText,
  parseYamlWithSchema,
  type ParsedYaml,
  applySetOverrides,
  interpolate,
  zodToInputError,
  DEFAULT_CONFIG_FILE,
  type LoadedConfig,
} from './load.js';
export { resolveEndpoint, endpointFromUrl, type ResolvedEndpoint, type EndpointFlags, type Auth } from './endpoints.js';
