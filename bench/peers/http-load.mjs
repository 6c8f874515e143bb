// The load of the app-cost job's http measurement (peers/app.mjs, which counts its own CPU time
// meanwhile): `requests` GETs to 127.0.0.1:port over keep-alive connections, `concurrency` at a
// time; prints { requests, seconds }.
import { Agent, get } from 'node:http';
import { done, lanes, params } from './common.mjs';

const { port, requests, concurrency } = params;
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });

const once = () => new Promise((resolve, reject) => {
  get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
    res.resume();
    res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
  }).on('error', reject);
});

const { seconds } = await lanes(requests, concurrency, once);
agent.destroy();
done({ requests, seconds });
