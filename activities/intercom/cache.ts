/** Per-process caches of workspace facts (tag ids, the admin): a failed lookup is dropped so the next attempt asks again. */
export function cachedLookup<T>(make: () => Promise<T>, drop: () => void): Promise<T> {
  const p = make();
  void p.catch(() => drop());
  return p;
}
