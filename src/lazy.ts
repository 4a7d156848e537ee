// A value built on its first use and then kept. For schemas and tables that a plain session never reads (the earlier
// implementation's file formats, team mode, state files that do not exist yet): built at load, each costs heap for the
// life of the process (a zod schema object with its closures is ~1 KB).
export function lazy<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}
