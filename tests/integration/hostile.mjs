// hostile.mjs - clients that try to hold a server down, for hardening.sh.
//
//   node hostile.mjs slow N FROM PORT SECONDS
//     N connections from address FROM, each sending a request's headers
//     one line every second and never finishing them.  Prints how many the
//     server accepted and how many were still open at the end.
//   node hostile.mjs push N PORT PATH SECONDS
//     N connections from 127.0.0.10..., each announcing a 100 MB body for
//     POST PATH and pushing bytes as fast as the server takes them.  Prints
//     how many the server ended (answered and closed) before SECONDS.
//
// Only Node's own modules: it runs on Debian 12's Node 18.
import net from 'node:net';

const [mode, n, a, b, c] = process.argv.slice(2);
const count = Number(n);
const sockets = [];
const done = (msg) => { console.log(msg); for (const s of sockets) s.destroy(); process.exit(0); };

if (mode === 'slow') {
  const from = a, port = Number(b), seconds = Number(c);
  let opened = 0, closed = 0;
  for (let i = 0; i < count; i++) {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: from });
    s.on('connect', () => { opened++; s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'); });
    s.on('error', () => {});
    s.on('close', () => { closed++; });
    sockets.push(s);
  }
  const tick = setInterval(() => {
    for (const s of sockets) if (!s.destroyed) s.write('X-Slow: yes\r\n');
  }, 1000);
  setTimeout(() => { clearInterval(tick); done(`slow: ${opened} connected, ${count - closed} still open`); },
             seconds * 1000);
} else if (mode === 'push') {
  const port = Number(a), path = b, seconds = Number(c);
  const chunk = Buffer.alloc(65536, 120);
  let ended = 0;
  for (let i = 0; i < count; i++) {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: `127.0.0.${10 + (i % 200)}` });
    s.on('connect', () => {
      s.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
              'Content-Length: 100000000\r\n\r\n');
      const push = () => { while (!s.destroyed && s.write(chunk)); };
      s.on('drain', push);
      push();
    });
    // Answered, or closed at once: a refusal that races the client's bytes
    // may reach it as a reset rather than an answer.
    s.once('close', () => { ended++; });
    s.on('error', () => {});
    sockets.push(s);
  }
  setTimeout(() => done(`push: ${ended} ended by the server`), seconds * 1000);
} else {
  console.error('usage: node hostile.mjs slow N FROM PORT SECONDS | push N PORT PATH SECONDS');
  process.exit(2);
}
