'use strict';
// The Node baselines of bench/graphql.c.
//   node graphql_bench_client.js http URL N   N sequential POSTs of { add(a: 1, b: 2) }
//                                             with fetch (keep-alive), each reply
//                                             parsed; prints "OPS <per second>"
//   node graphql_bench_client.js ws URL N     one graphql-transport-ws subscription
//                                             count(to: N) with the `ws` package;
//                                             prints "EVENTS <per second>"
const WebSocket = require('ws');

const [mode, url, nText] = process.argv.slice(2);
const n = Number(nText);
const body = JSON.stringify({ query: '{ add(a: 1, b: 2) }' });

async function http() {
  const post = async () => {
    const r = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json;q=0.9',
      },
      body,
    });
    const j = await r.json();
    if (!j.data || j.data.add !== 3) throw new Error(`bad reply ${JSON.stringify(j)}`);
  };
  for (let i = 0; i < Math.min(200, n); i++) await post();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await post();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(`OPS ${(n / s).toFixed(1)}\n`);
}

function ws() {
  // Timed from the connect, as the C side's gj_client_execute is (connect,
  // upgrade, connection_init/ack, subscribe, the events, complete).
  const t0 = process.hrtime.bigint();
  const sock = new WebSocket(url, 'graphql-transport-ws');
  let seen = 0;
  sock.on('open', () => sock.send(JSON.stringify({ type: 'connection_init' })));
  sock.on('message', (raw) => {
    const m = JSON.parse(String(raw));
    if (m.type === 'connection_ack') {
      sock.send(JSON.stringify({
        type: 'subscribe',
        id: '1',
        payload: { query: `subscription { count(to: ${n}) }` },
      }));
    } else if (m.type === 'next') {
      seen += 1;
    } else if (m.type === 'complete') {
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (seen !== n) throw new Error(`saw ${seen} of ${n} events`);
      process.stdout.write(`EVENTS ${(n / s).toFixed(1)}\n`);
      sock.close();
    } else if (m.type === 'ping') {
      sock.send(JSON.stringify({ type: 'pong' }));
    } else if (m.type === 'error') {
      throw new Error(JSON.stringify(m.payload));
    }
  });
  sock.on('error', (e) => {
    throw e;
  });
}

if (mode === 'http') {
  http().catch((e) => {
    process.stderr.write(`${e.stack}\n`);
    process.exit(1);
  });
} else if (mode === 'ws') {
  ws();
} else {
  process.stderr.write('usage: graphql_bench_client.js http|ws URL N\n');
  process.exit(2);
}
