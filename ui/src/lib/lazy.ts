// A module loaded on first use: `import()` makes Vite split it into its own chunk, so the first
// frame does not parse code it does not show (bench/run.sh times that frame).

export interface Lazy<T> {
  /** The module, once loaded. */
  readonly now: T | null;
  /** Loads it (once); later calls get the same promise. */
  load(): Promise<T>;
}

export function lazy<T>(importer: () => Promise<T>): Lazy<T> {
  let value: T | null = null;
  let pending: Promise<T> | null = null;
  return {
    get now() {
      return value;
    },
    load() {
      pending ??= importer().then(
        (m) => (value = m),
        (e: unknown) => {
          pending = null; // A failed fetch may be tried again.
          throw e;
        },
      );
      return pending;
    },
  };
}

/** The module if it is loaded. Otherwise starts loading it, calls `again` once it is (or `failed`),
 * and returns null: the caller returns and is called again with the module at hand. */
export function loaded<T>(module: Lazy<T>, again: () => void, failed: (e: unknown) => void): T | null {
  if (module.now) return module.now;
  module.load().then(() => again(), failed);
  return null;
}
