// Open model: RATE iterations/s for DURATION, each one GET URL.
// Env: URL (required), RATE (default 5000), DURATION (default 30s), PRE_VUS (500), MAX_VUS (2000).
import http from 'k6/http';

export const options = {
  scenarios: {
    open: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE || 5000),
      timeUnit: '1s',
      duration: __ENV.DURATION || '30s',
      preAllocatedVUs: Number(__ENV.PRE_VUS || 500),
      maxVUs: Number(__ENV.MAX_VUS || 2000),
    },
  },
};

export default function () {
  http.get(__ENV.URL);
}
