/**
 * What `require('trainledger')` runs. trainledger is an ES module; Node.js 20.19+ (and 22.12+)
 * load an ES module with require() when it has no top-level await (trainledger has none), so
 * this hands back the very module `import` gets: one copy, no second build to keep in step.
 * Older Node.js cannot: the error then says what to do instead, in one line.
 */

/** `require()` of trainledger on a Node.js that cannot load ES modules with require(). */
class RequireEsmError extends Error {
  /** Node.js's own code for this failure, so handlers written for it still match. */
  readonly code = 'ERR_REQUIRE_ESM';

  constructor(entry: string, cause: unknown) {
    super(
      `${entry} is an ES module, and this Node.js (${process.version}) does not require() ES modules ` +
        `(20.19+ and 22.12+ do, unless started with --no-experimental-require-module): load it with ` +
        `\`const { SimpleTrainer } = await import('${entry}')\` inside an async function, or upgrade Node.js`,
      { cause },
    );
    this.name = 'RequireEsmError';
  }
}

function requireEsm(entry: string, load: () => unknown): unknown {
  try {
    return load();
  } catch (e) {
    if ((e as { code?: unknown } | null)?.code === 'ERR_REQUIRE_ESM') throw new RequireEsmError(entry, e);
    throw e;
  }
}

export = requireEsm;
