/** A client of bench/fixtures/raw-ws-sink: raw frames out, and its counters asked by a text frame. */
import { connect, type Socket } from '../src/runtime/ws-adapter.js';

export interface RawSinkClient {
  readonly socket: Socket;
  /** The sink's counter: `count` (messages decoded) or `bytes` (bulk bytes). */
  read(counter: 'count' | 'bytes'): Promise<number>;
  close(): void;
}

/** `zeroMask`: send with all-zero masks, as node links do (default false: ws's random masks). */
export async function connectRawSink(url: string, options: { zeroMask?: boolean } = {}): Promise<RawSinkClient> {
  const socket = await connect(url, { maxPayloadBytes: 64 * 2 ** 20, zeroMask: options.zeroMask === true });
  const replies: string[] = [];
  let wake: () => void = () => {};
  socket.onMessage((data) => {
    replies.push(data.toString());
    wake();
  });
  return {
    socket,
    async read(counter) {
      socket.send(counter);
      while (replies.length === 0) await new Promise<void>((r) => (wake = r));
      return Number(replies.shift());
    },
    close: () => socket.close(1000, 'done'),
  };
}
