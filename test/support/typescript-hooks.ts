// Lets plain `node` run a script that imports test/support: those files import each other as
// `./x.js` (as tsc wants) and some use TypeScript syntax Node's type stripping refuses (parameter
// properties). Imported for its effect, before any test/support module:
//   await import(new URL('../test/support/typescript-hooks.ts', import.meta.url).href);
import { existsSync, readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const isOwnSource = (url: string): boolean =>
  url.startsWith('file:') && url.endsWith('.ts') && !url.includes('/node_modules/');

registerHooks({
  resolve(specifier, context, nextResolve) {
    // `./x.js` from a TypeScript file of the repo means `./x.ts` when only that exists.
    if (
      specifier.startsWith('.') &&
      specifier.endsWith('.js') &&
      context.parentURL !== undefined &&
      isOwnSource(context.parentURL)
    ) {
      const asJs = new URL(specifier, context.parentURL);
      const asTs = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
      if (!existsSync(fileURLToPath(asJs)) && existsSync(fileURLToPath(asTs)))
        return nextResolve(asTs.href, context);
    }
    return nextResolve(specifier, context);
  },
  load(url, context, nextLoad) {
    if (!isOwnSource(url)) return nextLoad(url, context);
    const source = readFileSync(fileURLToPath(url), 'utf8');
    const output = ts.transpileModule(source, {
      fileName: fileURLToPath(url),
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2023,
        verbatimModuleSyntax: true,
        inlineSourceMap: true,
      },
    });
    return { format: 'module', source: output.outputText, shortCircuit: true };
  },
});
