'use strict';
// GraphQL over WebSocket on 127.0.0.1, a port chosen by the system ("PORT n"
// on stdout), serving tests/peers/graphql_schema.js:
//   /graphql   graphql-ws (graphql-transport-ws), the real server; with
//              connection params:
//                closeWith: N     the server closes the socket with code N
//                                 ("test close N") at connection_init
//                noAck: true      connection_init is never acknowledged
//                token            /auth needs "secret" here, else 4403
//                dropAfter: N     the first socket with this param is cut
//                                 (TCP, no close frame) after N next messages
//   /auth      the same, needing connectionParams.token == "secret"
//   /legacy    the legacy subscriptions-transport-ws protocol (subprotocol
//              graphql-ws: connection_init / connection_ack / start / data /
//              error / complete / stop / ka), written here over graphql-js
// With --tls-cert=PEM --tls-key=PEM it speaks wss (TLS) instead; --tls-ca=PEM
// as well asks for a client certificate signed by that CA (mutual TLS).
// Stops when its parent goes away.
const http = require('http');
const https = require('https');
const { WebSocketServer } = require('ws');
const { useServer } = require('graphql-ws/use/ws');
const { parse, validate, subscribe, execute, getOperationAST } = require('graphql');
const { schema, watchParent, parseCookies, args, tlsOptions } = require('./graphql_schema');

const opts = args();

const theSchema = schema();
const dropped = new Set();

function context(req) {
  return {
    headers: req.headers,
    cookies: parseCookies(req.headers.cookie),
    setCookie: () => {},
  };
}

function serveTransportWs(wss, needToken) {
  return useServer(
    {
      schema: theSchema,
      context: (ctx) => context(ctx.extra.request),
      onConnect: (ctx) => {
        const p = ctx.connectionParams || {};
        if (p.closeWith) {
          ctx.extra.socket.close(Number(p.closeWith), `test close ${p.closeWith}`);
          return false;
        }
        if (needToken && p.token !== 'secret') return false;
        if (p.noAck) return new Promise(() => {});
        return true;
      },
      onComplete: (ctx, id) => {
        process.stderr.write(`COMPLETE ${id}\n`);
      },
      onNext: (ctx) => {
        const p = ctx.connectionParams || {};
        const sock = ctx.extra.socket;
        sock.nexts = (sock.nexts || 0) + 1;
        if (p.dropAfter && !dropped.has(String(p.dropKey || 'x')) && sock.nexts >= Number(p.dropAfter)) {
          dropped.add(String(p.dropKey || 'x'));
          setImmediate(() => sock.terminate());
        }
      },
    },
    wss,
  );
}

// ---- the legacy protocol ----------------------------------------------------

function serveLegacy(wss) {
  wss.on('connection', (socket, req) => {
    const ops = new Map();
    let acked = false;
    const send = (m) => socket.readyState === 1 && socket.send(JSON.stringify(m));
    const ka = setInterval(() => acked && send({ type: 'ka' }), 200);
    socket.on('close', () => {
      clearInterval(ka);
      for (const it of ops.values()) if (it && it.return) it.return();
    });
    socket.on('message', async (raw) => {
      let m;
      try {
        m = JSON.parse(String(raw));
      } catch (e) {
        return send({ type: 'connection_error', payload: { message: 'bad json' } });
      }
      if (m.type === 'connection_init') {
        const p = m.payload || {};
        if (p.reject) return send({ type: 'connection_error', payload: { message: 'rejected' } });
        acked = true;
        send({ type: 'connection_ack' });
        return send({ type: 'ka' });
      }
      if (m.type === 'connection_terminate') return socket.close(1000);
      if (m.type === 'stop') {
        process.stderr.write(`STOP ${m.id}\n`);
        const it = ops.get(m.id);
        ops.delete(m.id);
        if (it && it.return) it.return();
        return send({ type: 'complete', id: m.id });
      }
      if (m.type !== 'start') return undefined;
      const { query, variables, operationName } = m.payload || {};
      let doc;
      try {
        doc = parse(query);
      } catch (e) {
        return send({ type: 'error', id: m.id, payload: { message: e.message } });
      }
      const errors = validate(theSchema, doc);
      if (errors.length) return send({ type: 'error', id: m.id, payload: errors[0] });
      const args = {
        schema: theSchema,
        document: doc,
        variableValues: variables,
        operationName,
        contextValue: context(req),
      };
      const op = getOperationAST(doc, operationName);
      if (!op || op.operation !== 'subscription') {
        const result = await execute(args);
        send({ type: 'data', id: m.id, payload: result });
        return send({ type: 'complete', id: m.id });
      }
      const it = await subscribe(args);
      if (!it[Symbol.asyncIterator]) {
        send({ type: 'data', id: m.id, payload: it });
        return send({ type: 'complete', id: m.id });
      }
      ops.set(m.id, it);
      try {
        for await (const result of it) {
          if (!ops.has(m.id)) return undefined;
          send({ type: 'data', id: m.id, payload: result });
        }
      } catch (e) {
        send({ type: 'data', id: m.id, payload: { errors: [{ message: e.message }] } });
      }
      if (ops.delete(m.id)) send({ type: 'complete', id: m.id });
      return undefined;
    });
  });
}

watchParent();
const notFound = (req, res) => {
  res.writeHead(404);
  res.end();
};
const tls = tlsOptions(opts);
const server = tls ? https.createServer(tls, notFound) : http.createServer(notFound);
const main = new WebSocketServer({ noServer: true });
const auth = new WebSocketServer({ noServer: true });
const legacy = new WebSocketServer({
  noServer: true,
  handleProtocols: (protocols) => (protocols.has('graphql-ws') ? 'graphql-ws' : false),
});
serveTransportWs(main, false);
serveTransportWs(auth, true);
serveLegacy(legacy);
server.on('upgrade', (req, socket, head) => {
  const path = new URL(req.url, 'http://x').pathname;
  const wss = path === '/graphql' ? main : path === '/auth' ? auth : path === '/legacy' ? legacy : null;
  if (!wss) {
    socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
