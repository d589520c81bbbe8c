import path from 'node:path';
import type { NextConfig } from 'next';

// The client is TypeScript source living beside memberops (file:../../client), and it imports memberops' contract
// (lib/contract.ts): the compiler's root is the repository, so those files are inside it. In your own app, with the
// client installed from a path or a registry, `transpilePackages` alone is enough.
const repositoryRoot = path.resolve(__dirname, '..', '..');

const config: NextConfig = {
  transpilePackages: ['@memberops/client'],
  turbopack: { root: repositoryRoot },
  outputFileTracingRoot: repositoryRoot,
  poweredByHeader: false,
};

export default config;
