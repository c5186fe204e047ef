// PCI Express error reporting (AER): the bus's `errors` service and the shapes it takes and gives.
// (The error classes vpci throws are in src/errors.ts.)
export { ErrorReporting } from './aer-service.js';
export type { ErrorReportingOptions, PcieError, ErrorMessage, ErrorReport } from './aer-service.js';
