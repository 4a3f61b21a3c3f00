import { Agent, request } from 'http';

/**
 * The load process of the read-side bench: sequential requests over one keep-alive connection to the API
 * on loopback, a bounded number per endpoint, latency measured end to end (request written → body read).
 * Sends its report to the parent over IPC.
 */
const [base, token, customersArg, managersArg] = process.argv.slice(2);
const customers = Number(customersArg);
const managers = Number(managersArg);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2_000);
const WARMUP = 200;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

let seed = 12345;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};

function get(path: string): Promise<{ ms: number; status: number }> {
  return new Promise((ok, fail) => {
    const t0 = process.hrtime.bigint();
    const req = request(`${base}${path}`, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => ok({ ms: Number(process.hrtime.bigint() - t0) / 1e6, status: res.statusCode ?? 0 }));
    });
    req.on('error', fail);
    req.end();
  });
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const round = (x: number) => Math.round(x * 1000) / 1000;

async function measure(make: () => string): Promise<{ requests: number; p50: number; p95: number; p99: number; max: number; status: Record<string, number> }> {
  for (let i = 0; i < WARMUP; i++) await get(make());
  const times: number[] = [];
  const status: Record<string, number> = {};
  for (let i = 0; i < REQUESTS; i++) {
    const r = await get(make());
    times.push(r.ms);
    status[r.status] = (status[r.status] ?? 0) + 1;
  }
  times.sort((a, b) => a - b);
  return { requests: REQUESTS, p50: round(pct(times, 50)), p95: round(pct(times, 95)), p99: round(pct(times, 99)), max: round(times[times.length - 1]), status };
}

async function main(): Promise<void> {
  const customer = () => `B${String(Math.floor(rnd() * customers)).padStart(6, '0')}`;
  const manager = () => `M${String(Math.floor(rnd() * managers)).padStart(3, '0')}`;
  const filters = ['', '&tier=REGULAR,MIDDLE', '&risk=HIGH,MEDIUM', '&stage=RETENTION&sort=lastShipmentAt'];
  const report = {
    customer360: await measure(() => `/v1/customers/${customer()}`),
    portfolioPage: await measure(() => `/v1/managers/${manager()}/portfolio?pageSize=20&page=${1 + Math.floor(rnd() * 3)}${filters[Math.floor(rnd() * filters.length)]}`),
    pyramid: await measure(() => '/v1/analytics/pyramid'),
  };
  agent.destroy();
  if (process.send) process.send(report);
  else console.log(JSON.stringify(report));
}

void main();
