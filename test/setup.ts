/**
 * Root hooks for the whole suite: a test that leaves a timer, socket or child process behind
 * fails here, since open handles are failures.
 */
const ignored = new Set(['TTYWrap', 'PipeWrap', 'FSReqCallback', 'Immediate', 'TickObject', 'PromiseWrap', 'SignalWrap', 'ProcessWrap']);

function openHandles(): string[] {
  return process.getActiveResourcesInfo().filter((type) => !ignored.has(type));
}

let before: string[] = [];

export const mochaHooks = {
  // Async like afterAll, so mocha's own timer for a running async hook counts on both sides.
  async beforeAll(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    before = openHandles();
  },
  async afterAll(): Promise<void> {
    // Let close callbacks of sockets and child processes run before counting.
    await new Promise((resolve) => setImmediate(resolve));
    const after = openHandles();
    const leaked = [...after];
    for (const type of before) {
      const i = leaked.indexOf(type);
      if (i >= 0) leaked.splice(i, 1);
    }
    if (leaked.length > 0) throw new Error(`the suite left open handles behind: ${leaked.join(', ')}`);
  },
};
