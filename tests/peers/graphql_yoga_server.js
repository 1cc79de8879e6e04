'use strict';
// graphql-yoga serving tests/peers/graphql_schema.js on 127.0.0.1, a port
// chosen by the system ("PORT n" on stdout), with: GET, multipart upload,
// batching (--batch=N: at most N operations, more is 413), gzip/deflate
// (useContentEncoding), @defer/@stream (plugin-defer-stream), automatic
// persisted queries (plugin-apq) and graphql-sse subscriptions
// (plugin-graphql-sse, at /graphql/stream).  Errors are not masked.
// Every request is counted: POST /count answers {"requests": n,
// "operations": m} (m counts the operations of batches) and resets them.
// Stops when its parent goes away.
const http = require('http');
const { createYoga } = require('graphql-yoga');
const { useDeferStream } = require('@graphql-yoga/plugin-defer-stream');
const { useAPQ } = require('@graphql-yoga/plugin-apq');
const { useGraphQLSSE } = require('@graphql-yoga/plugin-graphql-sse');
const { useContentEncoding } = require('@whatwg-node/server');
const { schema, parseCookies, watchParent, args } = require('./graphql_schema');

const opts = args();
let requests = 0;
let operations = 0;

const yoga = createYoga({
  schema: schema(),
  maskedErrors: false,
  logging: false,
  batching: { limit: Number(opts.batch || 5) },
  graphqlEndpoint: '/graphql',
  context: ({ request }) => {
    const headers = {};
    request.headers.forEach((v, k) => {
      headers[k] = v;
    });
    return {
      headers,
      cookies: parseCookies(request.headers.get('cookie')),
      setCookie: () => {},
    };
  },
  plugins: [
    useDeferStream(),
    useAPQ(),
    useGraphQLSSE(),
    useContentEncoding(),
    {
      onParams({ params }) {
        operations += 1;
        return params;
      },
    },
  ],
});

// A subscription whose source throws mid-stream (failAt) must not end the
// server (node ends on an unhandled rejection).
process.on('unhandledRejection', (e) => process.stderr.write(`unhandled: ${e}\n`));

watchParent();
const server = http.createServer((req, res) => {
  if (req.url === '/count') {
    const body = JSON.stringify({ requests, operations });
    requests = 0;
    operations = 0;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
    return;
  }
  requests += 1;
  yoga(req, res);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
