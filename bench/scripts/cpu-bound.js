// CPU-bound iterations: sha256 of 64 KiB, plus one cheap GET, for --workers scaling.
// Env: URL (required), VUS (default 8), DURATION (default 10s).
import http from 'k6/http';
import crypto from 'k6/crypto';

export const options = {
  scenarios: {
    cpu: { executor: 'constant-vus', vus: Number(__ENV.VUS || 8), duration: __ENV.DURATION || '10s' },
  },
};

const payload = 'x'.repeat(64 * 1024);

export default function () {
  crypto.sha256(payload, 'hex');
  http.get(__ENV.URL);
}
