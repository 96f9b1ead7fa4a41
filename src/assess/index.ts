export {
  collectAssessment,
  inspectDataDir,
  type Assessment,
  type Finding,
  type Severity,
  type AssessOptions,
} from './collect.js';
export { countSeriesByName } from './series.js';
export { renderAssessmentText, renderAssessmentMarkdown } from './render.js';
export { assessmentSchema } from './schema.js';
