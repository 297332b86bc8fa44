import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const infra = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(infra);
const composeFile = path.join(infra, 'compose.yaml');

/** `docker compose` (the v2 plugin) where installed, else Debian's `docker-compose`. Validating needs no Docker engine. */
let found: string[] | undefined;
function composeCommand(): string[] {
  if (found) return found;
  for (const candidate of [['docker', 'compose'], ['docker-compose']]) {
    const [bin, ...args] = candidate as [string, ...string[]];
    const probe = spawnSync(bin, [...args, 'version'], { encoding: 'utf8' });
    if (probe.status === 0) {
      found = candidate;
      return candidate;
    }
  }
  throw new Error(
    'neither `docker compose` nor `docker-compose` is installed: `apt-get install -y --no-install-recommends docker-compose` (Debian)',
  );
}

const secrets = { POSTGRES_PASSWORD: 'pg-secret', SWEEPD_API_TOKEN: 'api-secret', SWEEPD_NATS_TOKEN: 'nats-secret' };

function composeConfig(env: Record<string, string>, profiles: string[] = []) {
  const [bin, ...args] = composeCommand() as [string, ...string[]];
  const result = spawnSync(bin, [...args, '-f', composeFile, ...profiles.flatMap((p) => ['--profile', p]), 'config'], {
    encoding: 'utf8',
    cwd: root,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
  });
  return { ok: result.status === 0, stdout: result.stdout, stderr: result.stderr };
}

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: Array<string | { source?: string; target: string }>;
  profiles?: string[];
  deploy?: { resources?: { reservations?: { devices?: Array<{ driver?: string; capabilities?: string[] }> } } };
}

const rendered = new Map<string, Record<string, Service>>();
function services(env: Record<string, string> = secrets): Record<string, Service> {
  const key = JSON.stringify(env);
  const cached = rendered.get(key);
  if (cached) return cached;
  const out = composeConfig(env, ['gpu']);
  if (!out.ok) throw new Error(`compose config failed:\n${out.stderr}`);
  const result = (parse(out.stdout) as { services: Record<string, Service> }).services;
  rendered.set(key, result);
  return result;
}

const targets = (s: Service) => (s.volumes ?? []).map((v) => (typeof v === 'string' ? (v.split(':')[1] ?? '') : v.target));

describe('infra/compose.yaml', () => {
  it('is valid for the compose client and holds postgres, nats, the daemon and both workers', () => {
    expect(Object.keys(services()).sort()).toEqual(['cpu-worker', 'daemon', 'gpu-worker', 'nats', 'postgres']);
  });

  it('keeps postgres 15 and NATS JetStream on persistent volumes', () => {
    const { postgres, nats } = services();
    expect(postgres?.image).toMatch(/^postgres:15\b/);
    expect(targets(postgres as Service)).toContain('/var/lib/postgresql/data');
    const version = /^nats:(\d+)\.(\d+)/.exec(nats?.image ?? '');
    expect(version && Number(version[1]) * 100 + Number(version[2])).toBeGreaterThanOrEqual(209);
    const command = nats?.command ?? [];
    expect(command).toContain('-js');
    const store = command[command.indexOf('-sd') + 1];
    expect(targets(nats as Service)).toContain(store);
    expect(command.slice(command.indexOf('--auth'), command.indexOf('--auth') + 2)).toEqual(['--auth', 'nats-secret']);
  });

  it('runs the daemon from infra/Dockerfile against postgres and nats, with the API token from the environment', () => {
    const { daemon } = services();
    expect(daemon?.build?.dockerfile).toBe('infra/Dockerfile');
    expect(daemon?.command).toEqual(['up', '--host', '0.0.0.0', '--workers', '0']);
    expect(daemon?.environment).toMatchObject({
      SWEEPD_DATABASE_URL: 'postgres://sweepd:pg-secret@postgres:5432/sweepd',
      SWEEPD_NATS_URL: 'nats://nats:4222',
      SWEEPD_API_TOKEN: 'api-secret',
      SWEEPD_NATS_TOKEN: 'nats-secret',
    });
  });

  it('runs a gpu pool worker with an NVIDIA device reservation, and a cpu pool worker', () => {
    const { 'gpu-worker': gpu, 'cpu-worker': cpu } = services();
    expect(gpu?.build?.dockerfile).toBe('infra/Dockerfile.gpu-worker');
    expect(gpu?.command?.slice(0, 5)).toEqual(['worker', '--nats', 'nats://nats:4222', '--pool', 'gpu']);
    expect(gpu?.deploy?.resources?.reservations?.devices).toEqual([expect.objectContaining({ driver: 'nvidia', capabilities: ['gpu'] })]);
    expect(gpu?.profiles).toEqual(['gpu']);
    // One command trial per GPU: every GPU the host has unless SWEEPD_GPUS picks some.
    expect(gpu?.command?.slice(5)).toEqual(['--gpus', 'all']);
    expect(services({ ...secrets, SWEEPD_GPUS: '0,2' })['gpu-worker']?.command?.slice(5)).toEqual(['--gpus', '0,2']);
    expect(cpu?.command?.slice(0, 5)).toEqual(['worker', '--nats', 'nats://nats:4222', '--pool', 'cpu']);
  });

  it("points a GPU host's worker at the daemon's NATS when SWEEPD_WORKER_NATS_URL is set", () => {
    const gpu = services({ ...secrets, SWEEPD_WORKER_NATS_URL: 'nats://10.0.0.5:4222' })['gpu-worker'];
    expect(gpu?.command?.slice(0, 3)).toEqual(['worker', '--nats', 'nats://10.0.0.5:4222']);
  });

  it('refuses to render without the secrets, naming the missing one', () => {
    const out = composeConfig({ POSTGRES_PASSWORD: 'x', SWEEPD_NATS_TOKEN: 'y' });
    expect(out.ok).toBe(false);
    expect(out.stderr).toContain('SWEEPD_API_TOKEN');
  });
});

describe('infra Dockerfiles', () => {
  it('builds the daemon on node:20-bookworm-slim with npm ci and runs the sweepd CLI', () => {
    const text = readFileSync(path.join(infra, 'Dockerfile'), 'utf8');
    expect(text).toMatch(/^FROM node:20-bookworm-slim$/m);
    expect(text).toMatch(/^RUN npm ci\b/m);
    // npm ci's postinstall applies the driver patch: it must be in the image before.
    expect(text.indexOf('COPY patches ./patches')).toBeGreaterThan(-1);
    expect(text.indexOf('COPY patches ./patches')).toBeLessThan(text.indexOf('RUN npm ci'));
    expect(text).toContain('packages/api/bin/sweepd.js');
  });

  it('builds the GPU worker on a current CUDA with PyTorch, timm, the Python client and Node 20', () => {
    const text = readFileSync(path.join(infra, 'Dockerfile.gpu-worker'), 'utf8');
    const base = /^FROM nvidia\/cuda:(\d+)\.(\d+)\.\d+-runtime-ubuntu24\.04$/m.exec(text);
    expect(base, 'an nvidia/cuda 12.x or newer runtime base').not.toBeNull();
    expect(Number(base?.[1])).toBeGreaterThanOrEqual(12);
    // The PyTorch wheels are built for the same CUDA major version as the base image.
    expect(text).toMatch(new RegExp(`^ARG TORCH_INDEX_URL=https://download\\.pytorch\\.org/whl/cu${base?.[1]}\\d$`, 'm'));
    expect(text).toMatch(/pip install .*--index-url "\$\{TORCH_INDEX_URL\}" torch torchvision/);
    expect(text).toContain('TIMM_SPEC');
    expect(text).toContain('pip install --no-cache-dir /app/clients/python');
    expect(readFileSync(path.join(root, 'clients/python/pyproject.toml'), 'utf8')).toContain('name = "sweepd"');
    // No tfjs-node-gpu: its libtensorflow needs CUDA 11.2, which current GPU hosts do not have.
    expect(text).not.toContain('tfjs-node-gpu@');
    // The Node it copies in is the daemon's major version.
    expect(text).toMatch(/^FROM node:20-/m);
  });

  it('passes the compose client version check used above', () => {
    const [bin, ...args] = composeCommand() as [string, ...string[]];
    expect(execFileSync(bin, [...args, 'version'], { encoding: 'utf8' })).toMatch(/\d+\.\d+\.\d+/);
  });
});
