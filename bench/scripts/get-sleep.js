// VUS VUs each GET URL then sleep SLEEP seconds (memory per VU, many VUs).
// Env: URL (required), VUS, DURATION, SLEEP (default 1).
import http from 'k6/http';
import { sleep } from 'k6';

export const options = {
  scenarios: {
    main: { executor: 'constant-vus', vus: Number(__ENV.VUS || 1000), duration: __ENV.DURATION || '20s' },
  },
};

const pause = Number(__ENV.SLEEP || 1);

export default function () {
  http.get(__ENV.URL);
  sleep(pause);
}
