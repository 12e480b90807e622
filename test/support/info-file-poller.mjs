// Runs in a worker thread: reads the infoFile in a tight loop, as an uploader polling it would,
// and validates every read with a strict XML parser until told to stop.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { XMLValidator } from 'fast-xml-parser';

const { path, stopFlag } = workerData;
const stop = new Int32Array(stopFlag);
let reads = 0;
let invalid = 0;
let firstInvalid;
while (Atomics.load(stop, 0) === 0) {
  let xml;
  try {
    xml = readFileSync(path, 'utf8');
  } catch {
    continue; // not created yet
  }
  reads++;
  const verdict = XMLValidator.validate(xml);
  if (verdict !== true) {
    invalid++;
    firstInvalid ??= { error: verdict.err, tail: xml.slice(-300) };
  }
}
parentPort.postMessage({ reads, invalid, firstInvalid });
