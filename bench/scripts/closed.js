// Closed loop, no think time: VUS VUs each GET URL as fast as the target answers.
// Env: URL (required), VUS (default 50), DURATION (default 10s), DISCARD=1 for discardResponseBodies.
import http from 'k6/http';

export const options = {
  discardResponseBodies: __ENV.DISCARD === '1',
  scenarios: {
    closed: { executor: 'constant-vus', vus: Number(__ENV.VUS || 50), duration: __ENV.DURATION || '10s' },
  },
};

export default function () {
  http.get(__ENV.URL);
}
