import type { RuntimeModule, VuState } from '../vu-state.js';
import { b64decode, b64encode } from './base64.js';

export { b64decode, b64encode, base64Variant, decodeBase64, encodeBase64, type Base64Variant } from './base64.js';
export { toArrayBuffer, toBytes } from './bytes.js';

/** What `import encoding from 'k6/encoding'` gives a script. */
export interface EncodingApi {
  readonly b64encode: typeof b64encode;
  readonly b64decode: typeof b64decode;
}

/** Creates the `k6/encoding` module. It keeps no state, so every VU shares one frozen API object. */
export function createEncodingModule(): RuntimeModule {
  const api: EncodingApi = Object.freeze({ b64encode, b64decode });
  return {
    specifier: 'k6/encoding',
    instantiate(_vu: VuState): Record<string, unknown> {
      return { default: api, ...api };
    },
  };
}
