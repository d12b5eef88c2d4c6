import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import ts from 'typescript';
import { fileURLToPath } from 'node:url';
import { runNode } from './run-node.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Each `//=> text` comment in an example is a line it must print, in order. */
function expectedLines(source: string): string[] {
  return [...source.matchAll(/\/\/=> (.*)$/gm)].map((m) => m[1]!.trim());
}

describe('examples', () => {
  const examples = readdirSync(`${root}examples`).filter((f) => f.endsWith('.ts'));
  it('has examples to run', () => assert.ok(examples.length >= 2));
  for (const file of examples) {
    it(`${file} runs and prints what its comments say`, async () => {
      const expected = expectedLines(readFileSync(`${root}examples/${file}`, 'utf8'));
      assert.ok(expected.length > 0, 'an example states its output with //=> comments');
      const { code, stdout, stderr } = await runNode([`${root}dist/examples/${file.replace(/\.ts$/, '.js')}`]);
      assert.equal(code, 0, stderr);
      assert.deepEqual(stdout.trim().split('\n'), expected);
    });
  }
});

describe('README', () => {
  it('its example runs and prints what its comments say', async () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const source = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(source, 'the README has a ts example');
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    // Inside the package, so `import ... from 'godwit'` resolves to this build.
    const dir = mkdtempSync(`${root}dist/readme-`);
    try {
      writeFileSync(`${dir}/example.mjs`, js);
      const { code, stdout, stderr } = await runNode([`${dir}/example.mjs`]);
      assert.equal(code, 0, stderr);
      assert.deepEqual(stdout.trim().split('\n'), expectedLines(source));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
