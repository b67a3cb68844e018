// The errors a bad or oversized archive gets, wherever it is read.
import { HerdError } from '../errors/index.js';

const ARCHIVE_HINT = 'Create the archive with herd (herd cloud run packs it); do not edit or repack it by hand.';

/** An invalid_archive error with the standard hint. */
export function invalid(message: string): HerdError {
  return new HerdError('invalid_archive', `invalid archive: ${message}`, { hint: ARCHIVE_HINT });
}

/** An archive_too_large error. */
export function tooLarge(message: string, hint: string): HerdError {
  return new HerdError('archive_too_large', `archive too large: ${message}`, { hint });
}
