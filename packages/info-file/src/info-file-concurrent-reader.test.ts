import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import ts from 'typescript';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { steppingStorage } from '../../../test/support/patch-write-storage.js';
import { InfoFileWriter } from './info-file-writer.js';

// The reader runs in a worker thread so it reads truly concurrently with the writer. It checks
// every read with this package's own strict parser (fast-xml-parser's validator accepts `--` in
// comments and stray control characters, so it alone would not catch a torn file). Workers cannot
// load TypeScript, so the parser's sources are transpiled into the temp dir first.
const parserSources = ['xml-reader.ts', 'parse-info-file.ts', 'info-file-document.ts'];

const readerScript = `
import { readFileSync } from 'node:fs';
import { workerData, parentPort } from 'node:worker_threads';
const { parseInfoFile } = await import(workerData.parserUrl);
// require.resolve finds the CommonJS build, whose exports arrive as the default export.
const fastXmlParser = await import(workerData.fastXmlParserUrl);
const { XMLValidator } = fastXmlParser.XMLValidator ? fastXmlParser : fastXmlParser.default;
// [0]: set by the writer when it is done; [1], [2]: reads and mid-append reads so far, for the writer.
const shared = new Int32Array(workerData.shared);
const decoder = new TextDecoder('utf-8', { fatal: true });
let reads = 0, invalid = 0, midPatch = 0, lastCount = 0, maxCount = 0, finalStatus = '';
const errors = [];
const check = () => {
  const text = decoder.decode(readFileSync(workerData.path)); // one read() of the whole file
  reads++;
  try {
    // A second opinion on every fourth read (it is lenient, and slower than the strict parser).
    if (reads % 4 === 0 && XMLValidator.validate(text) !== true) throw new Error('fast-xml-parser: ' + JSON.stringify(XMLValidator.validate(text)));
    const doc = parseInfoFile(text);
    // Caught between the steps of an append: the Item is still inside the comment (after step 1),
    // an opener is plain text (after 2 or 4), or no comment is open at all (after 3).
    if (doc.status === 'Running' && (text.includes('<!--<') || text.includes(' !--') || !text.includes('<!--'))) midPatch++;
    doc.items.forEach((item, i) => { if (item.seq !== i) throw new Error('Seq ' + item.seq + ' at ' + i); });
    // Items only ever get added: a reader never sees fewer than it saw before.
    if (doc.items.length < lastCount) throw new Error('Items went from ' + lastCount + ' to ' + doc.items.length);
    lastCount = doc.items.length;
    maxCount = Math.max(maxCount, lastCount);
    finalStatus = doc.status;
  } catch (error) {
    invalid++;
    if (errors.length < 5) errors.push(String(error && error.message) + ' | ' + text.length + ' chars');
  }
};
while (Atomics.load(shared, 0) === 0) {
  check();
  Atomics.store(shared, 1, reads);
  Atomics.store(shared, 2, midPatch);
}
check();
parentPort.postMessage({ reads, invalid, midPatch, maxCount, finalStatus, errors });
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hlsdump-info-reader-'));
  const here = dirname(fileURLToPath(import.meta.url));
  for (const source of parserSources) {
    const code = await readFile(join(here, source), 'utf8');
    const js = ts.transpileModule(code, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
    }).outputText;
    await writeFile(join(dir, source.replace(/\.ts$/, '.mjs')), js.replaceAll(".js'", ".mjs'"));
  }
  await writeFile(join(dir, 'reader.mjs'), readerScript);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('a concurrent reader never sees invalid XML during 20 000+ appends, rewrites and finish', async () => {
  const path = join(dir, 'info.xml');
  const storage = steppingStorage();
  const writer = await InfoFileWriter.create(storage, path, {
    stream: '/default/app/stream',
    userData: 'id=42&kind=<test> -- ]]>',
  });
  const shared = new SharedArrayBuffer(12);
  const seen = new Int32Array(shared);
  const readEnough = () => Atomics.load(seen, 1) >= 300 && Atomics.load(seen, 2) >= 30;
  const require = createRequire(import.meta.url);
  const worker = new Worker(new URL(pathToFileURL(join(dir, 'reader.mjs'))), {
    workerData: {
      path,
      shared,
      parserUrl: pathToFileURL(join(dir, 'parse-info-file.mjs')).href,
      fastXmlParserUrl: pathToFileURL(require.resolve('fast-xml-parser')).href,
    },
  });
  const result = new Promise<{
    reads: number;
    invalid: number;
    midPatch: number;
    maxCount: number;
    finalStatus: string;
    errors: string[];
  }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });

  // At least 20 000 appends, and on until the reader has read the file a few hundred times and
  // caught a few dozen appends in progress.
  const minAppends = 20_000;
  const maxAppends = 400_000;
  let appends = 0;
  let rewrites = 0;
  let inode = (await stat(path)).ino;
  let checkedAt = 0;
  for (let i = 0, group = 0; i < minAppends || (!readEnough() && i < maxAppends); group++) {
    // One to three appends at once (they go to the file in one patch), and paths of varying
    // length, so patch windows fall at every offset within a page.
    const together = 1 + (group % 3);
    await Promise.all(
      Array.from({ length: together }, (_, k) =>
        writer.append(`/d/s-${i + k}${'x'.repeat((i + k) % 37)}.ts`),
      ),
    );
    i += together;
    appends = i;
    if (i - checkedAt >= 50) {
      checkedAt = i;
      const now = (await stat(path)).ino;
      if (now !== inode) rewrites++;
      inode = now;
    }
  }
  await writer.finish('Completed');
  Atomics.store(seen, 0, 1);
  const { reads, invalid, midPatch, maxCount, finalStatus, errors } = await result;
  await worker.terminate();

  expect(errors).toEqual([]);
  expect(invalid).toBe(0);
  // The writer goes on until 300 reads with 30 of them caught in the middle of an append, unless it
  // reached its bound first; the floors leave room for that.
  expect(reads).toBeGreaterThanOrEqual(50);
  expect(midPatch).toBeGreaterThanOrEqual(20);
  expect(rewrites).toBeGreaterThanOrEqual(5);
  expect(maxCount).toBe(appends);
  expect(finalStatus).toBe('Completed');
  console.log(
    `reader: ${reads} strict reads (${midPatch} in the middle of an append), 0 invalid; ` +
      `writer: ${appends} appends, ${rewrites}+ padding rewrites`,
  );
}, 120_000);
