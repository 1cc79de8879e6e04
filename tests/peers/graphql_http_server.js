'use strict';
// graphql-http (the reference implementation of GraphQL over HTTP) serving
// tests/peers/graphql_schema.js on 127.0.0.1, a port chosen by the system
// ("PORT n" on stdout), and with --socket=PATH on a unix socket as well
// ("SOCKET path").  With --tls-cert=PEM --tls-key=PEM the TCP port speaks
// HTTPS instead; --tls-ca=PEM as well asks for a client certificate signed
// by that CA (mutual TLS).  Stops when its parent goes away.
//
// Paths:
//   /graphql          graphql-http, strict (400, 405, 406, 415 as it decides)
//   /auth/graphql     the same behind auth: "Bearer secret" or Basic
//                     user:pass, else 401 with a GraphQL error body
//   /forbidden        403 with a GraphQL error body
//   /status/N         HTTP N with an HTML page
//   /text             200 text/plain that is not GraphQL
//   /badjson          200 application/json that is not JSON
//   /legacy           a legacy server: application/json only, errors with 200
//   /postonly         405 (allow: POST) with a GraphQL error body for GET
//   /limit            413 when the body passes 200 bytes, else /graphql
//   /echo             200 {"data":{"request":{method, url, headers, body}}}:
//                     what the client sent, for the tests to look at
//   /hang             never answers
//   /gzip             {"data":{"hello":"gzip"}} gzip-encoded when accepted
const http = require('http');
const https = require('https');
const zlib = require('zlib');
const fs = require('fs');
const { createHandler } = require('graphql-http/lib/use/http');
const { execute, parse, validate } = require('graphql');
const { schema, parseCookies, watchParent, args, tlsOptions } = require('./graphql_schema');

const opts = args();
const theSchema = schema();

function context(raw, res) {
  return {
    headers: raw.headers,
    cookies: parseCookies(raw.headers.cookie),
    setCookie: (name, value) => {
      const prev = res.getHeader('set-cookie') || [];
      res.setHeader('set-cookie', [].concat(prev, `${name}=${value}; Path=/`));
    },
  };
}

const graphql = createHandler({
  schema: theSchema,
  context: (req) => context(req.raw, req.context.res),
});

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

function send(res, status, type, body, extra) {
  res.writeHead(status, Object.assign({ 'content-type': type }, extra || {}));
  res.end(body);
}

async function legacy(req, res) {
  // A pre-spec server: application/json whatever was accepted, 200 for
  // every GraphQL error, 400 only when the body is not JSON.
  const body = await readBody(req);
  let params;
  try {
    params = JSON.parse(body.toString('utf8'));
  } catch (e) {
    return send(res, 400, 'application/json', JSON.stringify({ errors: [{ message: 'bad json' }] }));
  }
  let doc;
  try {
    doc = parse(params.query);
  } catch (e) {
    return send(res, 200, 'application/json', JSON.stringify({ errors: [e] }));
  }
  const errors = validate(theSchema, doc);
  if (errors.length) return send(res, 200, 'application/json', JSON.stringify({ errors }));
  const result = await execute({
    schema: theSchema,
    document: doc,
    variableValues: params.variables,
    operationName: params.operationName,
    contextValue: context(req, res),
  });
  send(res, 200, 'application/json', JSON.stringify(result));
}

async function route(req, res) {
  const url = new URL(req.url, 'http://x');
  const path = url.pathname;
  if (path === '/graphql') return graphql(req, res);
  if (path === '/auth/graphql') {
    const a = req.headers.authorization || '';
    const basic = 'Basic ' + Buffer.from('user:pass').toString('base64');
    if (a === 'Bearer secret' || a === basic) return graphql(req, res);
    return send(res, 401, 'application/graphql-response+json; charset=utf-8',
      JSON.stringify({ errors: [{ message: 'unauthorized', extensions: { code: 'UNAUTHENTICATED' } }] }),
      { 'www-authenticate': 'Bearer' });
  }
  if (path === '/forbidden')
    return send(res, 403, 'application/graphql-response+json; charset=utf-8',
      JSON.stringify({ errors: [{ message: 'forbidden', extensions: { code: 'FORBIDDEN' } }] }));
  const m = /^\/status\/(\d{3})$/.exec(path);
  if (m)
    return send(res, Number(m[1]), 'text/html',
      `<!DOCTYPE html><html><body><h1>Error ${m[1]}</h1>proxy says no</body></html>`);
  if (path === '/text') return send(res, 200, 'text/plain', 'hello, not graphql');
  if (path === '/badjson') return send(res, 200, 'application/json', '{"data": {"hello": ');
  if (path === '/legacy') return legacy(req, res);
  if (path === '/postonly') {
    if (req.method !== 'POST')
      return send(res, 405, 'application/json', JSON.stringify({ errors: [{ message: 'use POST' }] }),
        { allow: 'POST' });
    return graphql(req, res);
  }
  if (path === '/limit') {
    const n = Number(req.headers['content-length'] || 0);
    if (n > 200) {
      req.resume();
      return send(res, 413, 'text/plain', 'Payload Too Large');
    }
    return graphql(req, res);
  }
  if (path === '/echo') {
    const body = await readBody(req);
    const request = { method: req.method, url: req.url, headers: req.headers, body: body.toString('utf8') };
    return send(res, 200, 'application/json', JSON.stringify({ data: { request } }));
  }
  if (path === '/hang') {
    req.resume();
    return undefined;
  }
  if (path === '/gzip') {
    await readBody(req);
    const text = JSON.stringify({ data: { hello: 'gzip', encoding: String(req.headers['accept-encoding'] || '') } });
    if (/gzip/.test(req.headers['accept-encoding'] || ''))
      return send(res, 200, 'application/json', zlib.gzipSync(text), { 'content-encoding': 'gzip' });
    return send(res, 200, 'application/json', text);
  }
  return send(res, 404, 'text/plain', 'not found');
}

function serve(tls) {   // tls: https options, or null
  const handler = (req, res) => {
    route(req, res).catch((e) => {
      if (!res.headersSent) send(res, 500, 'text/plain', String(e && e.stack));
    });
  };
  if (tls)
    return https.createServer(tls, handler);
  return http.createServer(handler);
}

watchParent();
const tcp = serve(tlsOptions(opts));
tcp.keepAliveTimeout = 60000;
tcp.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${tcp.address().port}\n`);
  if (opts.socket) {
    try {
      fs.unlinkSync(opts.socket);
    } catch (e) {
      /* not there */
    }
    const unix = serve();
    unix.listen(opts.socket, () => process.stdout.write(`SOCKET ${opts.socket}\n`));
  }
});
