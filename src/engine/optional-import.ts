/** Loads a package by name (`import()` by default; tests inject failures). */
export type ModuleImporter = (name: string) => Promise<unknown>;

/** How importing an optional package went: loaded, not installed, or installed but broken. */
export type ImportOutcome =
  | { readonly kind: 'loaded' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'broken'; readonly problem: string; readonly fix: string; readonly cause: unknown };

export const defaultImporter: ModuleImporter = (name) => import(name);

function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n', 1)[0]!.trim();
}

/**
 * Imports `name`, telling "not installed" (the package itself cannot be found) from "installed
 * but broken" (a native binding or library it needs is missing), with what went wrong and how
 * to fix it in words a user can act on: tfjs-node's own error is several lines long and its
 * install fails quietly offline.
 */
export async function importOptional(name: string, importer: ModuleImporter = defaultImporter): Promise<ImportOutcome> {
  try {
    await importer(name);
    return { kind: 'loaded' };
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    const message = e instanceof Error ? e.message : String(e);
    // Only the package itself being absent is "not installed"; a dependency of it missing is a broken install.
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(`'${name}'`)) return { kind: 'missing' };
    return { kind: 'broken', ...diagnose(name, e), cause: e };
  }
}

function diagnose(name: string, e: unknown): { problem: string; fix: string } {
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown } | null)?.code;
  const reinstall = `reinstall it with internet access (npm install ${name}), or rebuild it: npm rebuild ${name} --build-addon-from-source (needs a C++ toolchain)`;
  if (/tfjs_binding\.node/.test(message) && /(can ?not|cannot) be found|no such file/i.test(message)) {
    return {
      problem: `${name} is installed but its native binding (tfjs_binding.node) is missing: its install did not download or build it (it downloads libtensorflow, which fails offline)`,
      fix: reinstall,
    };
  }
  if (/libtensorflow/.test(message) || code === 'ERR_DLOPEN_FAILED') {
    return {
      problem: `${name} is installed but its native library could not be loaded (libtensorflow not downloaded, or built for another system): ${firstLine(e)}`,
      fix: reinstall,
    };
  }
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
    return { problem: `${name} is installed but a package it needs is not: ${firstLine(e)}`, fix: `reinstall it: npm install ${name}` };
  }
  return { problem: `${name} is installed but failed to load: ${firstLine(e)}`, fix: reinstall };
}
