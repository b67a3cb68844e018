// VUS VUs each GET URL then sleep SLEEP seconds (memory per VU, many VUs).
// Env: URL (required), VUS, DURATION, SLEEP (default 1), STEADY_FROM (seconds, default 5).
//
// A request whose iteration starts STEADY_FROM seconds or more into the scenario is tagged
// phase=steady, an earlier one phase=start. The bench reads the steady requests' count and
// latency apart from the whole run's: the whole run's rate also holds the time it takes to
// open every VU's first connection, which on a loaded machine is seconds at 5,000 VUs.
// The thresholds never fail; they are there because a summary export lists a sub-metric
// only when a threshold names it (as in k6).
import http from 'k6/http';
import { sleep } from 'k6';
import exec from 'k6/execution';

export const options = {
  scenarios: {
    main: { executor: 'constant-vus', vus: Number(__ENV.VUS || 1000), duration: __ENV.DURATION || '20s' },
  },
  thresholds: {
    'http_reqs{phase:steady}': ['count>=0'],
    'http_req_duration{phase:steady}': ['max>=0'],
  },
};

const pause = Number(__ENV.SLEEP || 1);
const steadyFromMs = Number(__ENV.STEADY_FROM || 5) * 1000;
const steady = { tags: { phase: 'steady' } };
const start = { tags: { phase: 'start' } };

export default function () {
  http.get(__ENV.URL, Date.now() - exec.scenario.startTime >= steadyFromMs ? steady : start);
  sleep(pause);
}
