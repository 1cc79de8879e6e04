'use strict';
// The schema every GraphQL test server of tests/peers serves (graphql-http,
// graphql-yoga, graphql-ws and the legacy subscriptions-transport-ws server),
// and the helpers they share: printing "PORT n" / "SOCKET path" and stopping
// when the parent process goes away.
//
// The context of every resolver is { headers, cookies, setCookie(name, value) }
// (each server fills it from its own request object).

const fs = require('fs');
const { makeExecutableSchema } = require('@graphql-tools/schema');
const { GraphQLError, GraphQLScalarType } = require('graphql');

const typeDefs = /* GraphQL */ `
  scalar Upload
  scalar File

  type Partial {
    ok: String
    bad: String
  }

  type Deferred {
    fast: String
    slowField: String
  }

  type FileInfo {
    name: String
    type: String
    size: Int
    text: String
  }

  type Query {
    hello(name: String): String
    add(a: Int!, b: Int!): Int!
    echo(text: String): String
    slow(ms: Int!): String
    partial: Partial
    fail: String
    list(n: Int!): [Int!]!
    deferred: Deferred
    header(name: String!): String
    cookie(name: String!): String
    big(n: Int!): String
    counter: Int!
  }

  type Mutation {
    increment(by: Int): Int!
    setCookie(name: String!, value: String!): Boolean
    upload(file: File!): FileInfo
    uploadMany(files: [File!]!): [FileInfo]
  }

  type Subscription {
    count(to: Int!, delayMs: Int): Int!
    failAt(n: Int!): Int!
    forever(delayMs: Int): Int!
  }
`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let counter = 0;

// A File (yoga: the WHATWG File of the multipart part) or anything with a
// name and text.
async function fileInfo(file) {
  const f = await file;
  if (f && typeof f.text === 'function') {
    const text = await f.text();
    return { name: f.name, type: f.type, size: f.size, text };
  }
  return { name: String(f), type: null, size: null, text: null };
}

const passThrough = (name) =>
  new GraphQLScalarType({
    name,
    serialize: (v) => v,
    parseValue: (v) => v,
    parseLiteral: () => {
      throw new GraphQLError(`${name} literals are not supported`);
    },
  });

const resolvers = {
  Upload: passThrough('Upload'),
  File: passThrough('File'),
  Query: {
    hello: (_, { name }) => `Hello, ${name ?? 'world'}!`,
    add: (_, { a, b }) => a + b,
    echo: (_, { text }) => text,
    slow: async (_, { ms }) => {
      await sleep(ms);
      return `slept ${ms}`;
    },
    partial: () => ({}),
    fail: () => {
      throw new GraphQLError('teapot', { extensions: { code: 'TEAPOT', detail: { n: 1 } } });
    },
    list: (_, { n }) => Array.from({ length: n }, (_v, i) => i),
    deferred: () => ({}),
    header: (_, { name }, ctx) => {
      const v = ctx.headers[name.toLowerCase()];
      return v === undefined ? null : String(v);
    },
    cookie: (_, { name }, ctx) => ctx.cookies[name] ?? null,
    big: (_, { n }) => 'x'.repeat(n),
    counter: () => counter,
  },
  Partial: {
    ok: () => 'fine',
    bad: () => {
      throw new GraphQLError('bad field', { extensions: { code: 'BAD_FIELD' } });
    },
  },
  Deferred: {
    fast: () => 'fast',
    slowField: async () => {
      await sleep(50);
      return 'slow';
    },
  },
  Mutation: {
    increment: (_, { by }) => {
      counter += by ?? 1;
      return counter;
    },
    setCookie: (_, { name, value }, ctx) => {
      ctx.setCookie(name, value);
      return true;
    },
    upload: (_, { file }) => fileInfo(file),
    uploadMany: (_, { files }) => Promise.all(files.map(fileInfo)),
  },
  Subscription: {
    count: {
      subscribe: async function* count(_, { to, delayMs }) {
        for (let i = 1; i <= to; i++) {
          if (delayMs) await sleep(delayMs);
          yield { count: i };
        }
      },
    },
    failAt: {
      subscribe: async function* failAt(_, { n }) {
        for (let i = 1; ; i++) {
          if (i === n) throw new GraphQLError(`failed at ${n}`, { extensions: { code: 'FAILED_AT' } });
          yield { failAt: i };
        }
      },
    },
    forever: {
      subscribe: async function* forever(_, { delayMs }) {
        for (let i = 1; ; i++) {
          await sleep(delayMs ?? 10);
          yield { forever: i };
        }
      },
    },
  },
};

function schema() {
  return makeExecutableSchema({ typeDefs, resolvers });
}

function parseCookies(header) {
  const out = {};
  for (const part of String(header || '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

// Stop when the process that started us goes away (a test that crashed
// cannot kill us by pid).
function watchParent() {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 300).unref();
  process.on('SIGTERM', () => process.exit(0));
}

// node arguments "--key=value" as an object.
function args() {
  const out = {};
  for (const a of process.argv.slice(2)) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (m) out[m[1]] = m[2] === undefined ? true : m[2];
  }
  return out;
}

// The https.createServer options of --tls-cert=PEM --tls-key=PEM, or null
// without them.  With --tls-ca=PEM as well the server asks for a client
// certificate and refuses a handshake without one that this CA signed
// (mutual TLS).
function tlsOptions(opts) {
  if (!opts['tls-cert'] || !opts['tls-key']) return null;
  const o = { cert: fs.readFileSync(opts['tls-cert']), key: fs.readFileSync(opts['tls-key']) };
  if (opts['tls-ca']) {
    o.ca = fs.readFileSync(opts['tls-ca']);
    o.requestCert = true;
    o.rejectUnauthorized = true;
  }
  return o;
}

module.exports = { schema, typeDefs, resolvers, parseCookies, watchParent, args, sleep, tlsOptions };
