#!/usr/bin/env node
// ws_peer.js — a WebSocket server made with the `ws` package (8.23.0), the
// peer of tests/unit/ws_test.cc (libgraphjob's lib/transport/ws).  It listens
// on 127.0.0.1 on a free port, prints "PORT <n>", and serves until killed.
//
// usage: node ws_peer.js MODE [ARGS...]
//   echo                 every message comes back as it came (text or binary);
//                        "?pings" answers the number of pings received so far,
//                        "?headers" the upgrade request's headers (JSON)
//   big N                every message is answered with N bytes (binary; byte
//                        i is i & 0xff)
//   frag K               every message comes back split into K fragments
//   close CODE REASON    the first message is answered with a close frame
//   silent               echo, but pings are never answered (autoPong off)
//   subprotocol          echo; the last of the offered subprotocols is chosen
//                        (none at the path /none)
//   reject               every upgrade is answered "404 Not Found"
//   wss CERT KEY [CLIENT_CA]  echo over TLS with that certificate and key
//                        (PEM); with CLIENT_CA, clients must present a
//                        certificate it signed
// In every mode an upgrade request for /stall is never answered (the socket
// stays open), and a connection to /drop is dropped (TCP, no close frame)
// after its first message.  Each connection's end is logged on stderr as
// "close <code> <reason>" (what the client's close frame said, or 1006).
"use strict";

const fs = require("fs");
const http = require("http");
const https = require("https");
const { WebSocketServer } = require("ws");

const argv = process.argv.slice(2);
const mode = argv[0] || "echo";
const modes = ["echo", "big", "frag", "close", "silent", "subprotocol", "reject", "wss"];
if (!modes.includes(mode)) {
  console.error(`usage: node ws_peer.js {${modes.join("|")}} [ARGS...]`);
  process.exit(2);
}

// An orphan never outlives a test run for long.
setTimeout(() => process.exit(3), 600_000).unref();

const server =
  mode === "wss"
    ? https.createServer({
        cert: fs.readFileSync(argv[1]),
        key: fs.readFileSync(argv[2]),
        // With a CLIENT_CA: a client certificate it signed is required.
        ...(argv[3] ? { ca: fs.readFileSync(argv[3]), requestCert: true, rejectUnauthorized: true } : {}),
      })
    : http.createServer();
server.on("request", (req, res) => {
  res.writeHead(426, { "Content-Type": "text/plain" });
  res.end("a WebSocket endpoint\n");
});

const wss = new WebSocketServer({
  noServer: true,
  autoPong: mode !== "silent",
  maxPayload: 256 * 1024 * 1024,
  handleProtocols: (offered, req) => {
    if (mode !== "subprotocol" || req.url === "/none") return false;
    const list = [...offered];
    return list.length ? list[list.length - 1] : false;
  },
});

const stalled = [];
server.on("upgrade", (req, socket, head) => {
  socket.on("error", () => {});
  if (req.url === "/stall") {
    stalled.push(socket);   // never answered
    return;
  }
  if (mode === "reject") {
    const body = "no WebSocket endpoint here\n";
    socket.end(
      "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n" +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`
    );
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
});

wss.on("connection", (ws, req) => {
  let pings = 0;
  let messages = 0;
  ws.on("error", (e) => console.error(`error ${e.message}`));
  ws.on("ping", () => pings++);
  // What the client's close frame said, for the test to read (stderr).
  ws.on("close", (code, reason) => console.error(`close ${code} ${reason.toString()}`));
  ws.on("message", (data, isBinary) => {
    messages++;
    if (req.url === "/drop") {
      ws._socket.destroy();
      return;
    }
    if (!isBinary && data.length < 16) {
      const text = data.toString();
      if (text === "?pings") return ws.send(String(pings));
      if (text === "?headers") return ws.send(JSON.stringify(req.headers));
    }
    switch (mode) {
      case "big": {
        const n = Number(argv[1]);
        const buf = Buffer.allocUnsafe(n);
        for (let i = 0; i < n; i++) buf[i] = i & 0xff;
        ws.send(buf, { binary: true });
        break;
      }
      case "frag": {
        const k = Math.max(1, Number(argv[1]));
        const step = Math.ceil(data.length / k);
        for (let i = 0; i < k; i++) {
          const part = data.subarray(Math.min(i * step, data.length), Math.min((i + 1) * step, data.length));
          ws.send(part, { binary: isBinary, fin: i === k - 1 });
        }
        break;
      }
      case "close":
        if (messages === 1) ws.close(Number(argv[1]), argv[2] || "");
        break;
      default:
        ws.send(data, { binary: isBinary });
    }
  });
});

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
process.on("SIGTERM", () => {
  for (const s of stalled) s.destroy();
  process.exit(0);
});
