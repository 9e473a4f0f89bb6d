import { createHash } from 'node:crypto';
import type { HostInfo } from '../events/train-event.js';

/** A value as JSON with every object's keys sorted, so equal configs give equal text whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * A run's config (its hyper-parameters, `TrainerOptions.config`) as dotted keys and printable
 * values, in the order recorded: `{ opt: { lr: 0.1 } }` gives `[['opt.lr', '0.1']]`. A config that
 * is not an object is one entry with an empty key.
 */
export function flattenConfig(config: unknown, prefix = ''): Array<[string, string]> {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    return [[prefix, typeof config === 'string' ? config : canonical(config)]];
  }
  const entries = Object.entries(config as Record<string, unknown>);
  if (entries.length === 0) return prefix ? [[prefix, '{}']] : [];
  return entries.flatMap(([k, v]) => flattenConfig(v, prefix ? `${prefix}.${k}` : k));
}

/** The config in a few characters, for a table: how many keys, and a hash that is equal for equal configs. */
export interface ConfigDigest {
  readonly keys: number;
  /** First 8 hex digits of the SHA-256 of the config as sorted-key JSON. */
  readonly hash: string;
}

export function configDigest(config: unknown): ConfigDigest | null {
  if (config === undefined || config === null) return null;
  return { keys: flattenConfig(config).length, hash: createHash('sha256').update(canonical(config)).digest('hex').slice(0, 8) };
}

/** `8 keys 3f2a9c1d`, or `-` for a run recorded without a config. */
export function formatDigest(d: ConfigDigest | null): string {
  return d === null ? '-' : `${d.keys} key${d.keys === 1 ? '' : 's'} ${d.hash}`;
}

/** Where and with what code a run ran: `vm (linux-x64, node v20.20.2, pid 5049); tfjs 4.22.0 on wasm`. */
export function formatHost(host: HostInfo | null | undefined): string {
  if (!host) return '-';
  const code = [host.tfjs !== undefined ? `tfjs ${host.tfjs}` : null, host.backend !== undefined ? `on ${host.backend}` : null, host.git !== undefined ? `git ${host.git}` : null].filter((s) => s !== null);
  return `${host.hostname} (${host.platform}, node ${host.node}, pid ${host.pid})${code.length ? `; ${code.join(' ')}` : ''}`;
}
