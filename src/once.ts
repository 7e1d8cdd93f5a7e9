/** `make`, called once on first use; later calls get the same promise (a lazily loaded client, say). */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | null = null;
  return () => (made ??= make());
}
