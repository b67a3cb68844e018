// The memory-per-vu peer: the load of scripts/get-sleep.js (VUS loops, each GET then sleep 1 s,
// for DURATION seconds, all starting together as constant-vus VUs do) made with node:net alone.
// One keep-alive connection per loop, a request written by hand, a response's end found by its
// Content-Length. Nothing is measured but what the bench reads from herd, so what herd costs
// on top of Node shows as the difference in memory, start, rate and latency on the same machine.
//   node bench/tools/raw-vus.mjs URL VUS DURATION_S [STEADY_FROM_S]
// Prints one JSON line: requests, rate over the run and over the steady window (iterations that
// start STEADY_FROM_S or later), latency percentiles in ms (over the run and the window), and
// when the last loop had its first answer.
import net from 'node:net';

const [urlArg, vusArg, durationArg, steadyArg = '5'] = process.argv.slice(2);
if (!urlArg || !vusArg || !durationArg) {
  console.error('usage: node bench/tools/raw-vus.mjs URL VUS DURATION_S [STEADY_FROM_S]');
  process.exit(2);
}
const url = new URL(urlArg);
const vus = Number(vusArg);
const durationMs = Number(durationArg) * 1000;
const steadyFromMs = Number(steadyArg) * 1000;
const port = Number(url.port || 80);
const request = Buffer.from(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: raw-vus\r\n\r\n`);

// One latency per request: at most one request per loop per second, plus the first.
const latencies = new Float64Array(Math.ceil(vus * (durationMs / 1000 + 2)));
const inSteadyWindow = new Uint8Array(latencies.length);
let requests = 0;
let steadyRequests = 0;
let errors = 0;
let lastFirstAnswer = 0;

/** Resolves with the number of bytes of a complete response at the start of `buf`, 0 if incomplete. */
function responseLength(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return 0;
  const m = /content-length:\s*(\d+)/i.exec(buf.toString('latin1', 0, end));
  const total = end + 4 + (m ? Number(m[1]) : 0);
  return buf.length >= total ? total : 0;
}

function loop(t0) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: url.hostname, noDelay: true });
    let pending = Buffer.alloc(0);
    let sentAt = 0;
    let steady = 0;
    let first = true;
    const next = () => {
      const now = performance.now();
      if (now - t0 >= durationMs) {
        socket.destroy();
        resolve();
        return;
      }
      steady = now - t0 >= steadyFromMs ? 1 : 0;
      steadyRequests += steady;
      sentAt = now;
      socket.write(request);
    };
    socket.on('data', (chunk) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const n = responseLength(pending);
      if (n === 0) return;
      pending = pending.subarray(n);
      const now = performance.now();
      inSteadyWindow[requests] = steady;
      latencies[requests++] = now - sentAt;
      if (first) {
        first = false;
        lastFirstAnswer = Math.max(lastFirstAnswer, now - t0);
      }
      setTimeout(next, 1000);
    });
    socket.on('error', () => {
      errors++;
      resolve();
    });
    next();
  });
}

const t0 = performance.now();
const loops = [];
for (let i = 0; i < vus; i++) loops.push(loop(t0));
await Promise.all(loops);
const wallS = (performance.now() - t0) / 1000;
const percentile = (values, p) => (values.length === 0 ? null : values[Math.min(values.length - 1, Math.floor(p * values.length))]);
const all = latencies.slice(0, requests).sort();
const steadyOnes = latencies.slice(0, requests).filter((_, i) => inSteadyWindow[i] === 1).sort();
console.log(JSON.stringify({
  requests,
  wallS,
  rps: requests / wallS,
  steadyRequests,
  steadyS: (durationMs - steadyFromMs) / 1000,
  medMs: percentile(all, 0.5),
  p99Ms: percentile(all, 0.99),
  steadyP99Ms: percentile(steadyOnes, 0.99),
  lastFirstAnswerS: lastFirstAnswer / 1000,
  errors,
}));
