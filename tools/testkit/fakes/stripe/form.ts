/** Stripe's request encoding, read back the way Stripe's API reads it. */
type Json = Record<string, unknown>;

/** Decodes Stripe's bracketed form encoding (`metadata[plan]=pro`, `expand[0]=latest_invoice`) into objects and arrays. */
export function decodeStripeForm(encoded: string): Json {
  const root: Json = {};
  for (const [key, value] of new URLSearchParams(encoded)) {
    const parts = key.split('[').map((p, i) => (i === 0 ? p : p.replace(/\]$/, '')));
    let node = root;
    parts.forEach((part, i) => {
      const slot = part === '' ? String(Object.keys(node).length) : part;
      if (i === parts.length - 1) node[slot] = value;
      else node = (node[slot] = typeof node[slot] === 'object' && node[slot] !== null ? node[slot] : {}) as Json;
    });
  }
  const arrays = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    const entries = Object.entries(v).map(([k, x]) => [k, arrays(x)] as const);
    const indexed = entries.length > 0 && entries.every(([k]) => /^\d+$/.test(k));
    return indexed ? entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, x]) => x) : Object.fromEntries(entries);
  };
  return arrays(root) as Json;
}
