// VUS VUs whose iterations only sleep SLEEP seconds: the engine's cost per idle VU, no sockets.
// Env: VUS (default 100000), DURATION (default 20s), SLEEP (default 1).
import { sleep } from 'k6';

export const options = {
  scenarios: {
    main: { executor: 'constant-vus', vus: Number(__ENV.VUS || 100000), duration: __ENV.DURATION || '20s' },
  },
};

const pause = Number(__ENV.SLEEP || 1);

export default function () {
  sleep(pause);
}
