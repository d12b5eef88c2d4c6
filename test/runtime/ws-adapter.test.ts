import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { connect, listen, type Socket } from '../../src/runtime/ws-adapter.js';

// RFC 6455, section 1.3.
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A bare TCP server that accepts one WebSocket upgrade and resolves with the first frame's bytes as sent. */
async function rawUpgradeServer(): Promise<{ url: string; firstFrame: Promise<Buffer>; close(): void }> {
  const server = net.createServer();
  const sockets: net.Socket[] = [];
  const firstFrame = new Promise<Buffer>((resolve) => {
    server.on('connection', (socket) => {
      sockets.push(socket);
      let buffered = Buffer.alloc(0);
      let upgraded = false;
      socket.on('data', (data: Buffer) => {
        buffered = Buffer.concat([buffered, data]);
        if (!upgraded) {
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) return;
          const key = /sec-websocket-key: *(\S+)/i.exec(buffered.subarray(0, end).toString())![1]!;
          const accept = createHash('sha1').update(key + GUID).digest('base64');
          socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
          upgraded = true;
          buffered = buffered.subarray(end + 4);
        }
        // A payload under 126 bytes: 2 header bytes, a 4-byte mask key, the payload.
        if (buffered.length >= 6 && buffered.length >= 6 + (buffered[1]! & 0x7f)) resolve(buffered);
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    firstFrame,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('ws adapter', () => {
  describe('#connect', () => {
    let cleanup: Array<() => unknown> = [];
    afterEach(async () => {
      for (const c of cleanup.reverse()) await c();
      cleanup = [];
    });

    it('sends frames with a zero mask key when asked (zeroMask)', async () => {
      const server = await rawUpgradeServer();
      cleanup.push(() => server.close());
      const socket = await connect(server.url, { maxPayloadBytes: 1024, zeroMask: true });
      cleanup.push(() => socket.terminate());
      socket.send(Buffer.from([1, 2, 3, 4, 5]));
      const frame = await server.firstFrame;
      assert.equal(frame[1]! & 0x80, 0x80, 'a client frame still carries the mask bit');
      assert.deepEqual([...frame.subarray(2, 6)], [0, 0, 0, 0]);
      assert.deepEqual([...frame.subarray(6, 11)], [1, 2, 3, 4, 5]);
    });

    it('masks with a random key by default', async () => {
      const server = await rawUpgradeServer();
      cleanup.push(() => server.close());
      const socket = await connect(server.url, { maxPayloadBytes: 1024 });
      cleanup.push(() => socket.terminate());
      socket.send(Buffer.from([1, 2, 3, 4, 5]));
      const frame = await server.firstFrame;
      const key = frame.subarray(2, 6);
      assert.deepEqual([...frame.subarray(6, 11)].map((b, i) => b ^ key[i % 4]!), [1, 2, 3, 4, 5]);
    });

    it('delivers zero-masked binary messages intact to a ws server', async () => {
      const server = await listen({ maxPayloadBytes: 4 * 2 ** 20 }, (s) => s.onMessage((data) => s.send(Buffer.from([data.length & 0xff, data[data.length - 1]!]))));
      cleanup.push(() => server.close());
      const socket: Socket = await connect(server.url, { maxPayloadBytes: 1024, zeroMask: true });
      cleanup.push(() => socket.terminate());
      const reply = new Promise<Buffer>((resolve) => socket.onMessage((data) => resolve(data)));
      const payload = Buffer.alloc(2 ** 20 + 3, 9);
      payload[payload.length - 1] = 42;
      socket.send(payload);
      assert.deepEqual([...(await reply)], [(2 ** 20 + 3) & 0xff, 42]);
    });
  });
});
