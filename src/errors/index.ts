export { ExitCode, type ExitCodeValue } from './exit-codes.js';
export { HerdError, isHerdError, errorCodes, type ErrorCode, type ErrorPayload } from './herd-error.js';
