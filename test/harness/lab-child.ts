// Started as a separate process by lab.test.ts: starts one real Prometheus, prints its pid, then waits to be killed.
import { startPrometheus } from '../../src/lab/index.js';

const dir = process.argv[2];
const server = await startPrometheus({
  name: 'child',
  config: 'global:\n  scrape_interval: 15s\n',
  dataDir: `${dir}/data`,
});
process.stdout.write(`${server.pid}\n`);
setInterval(() => undefined, 1000);
