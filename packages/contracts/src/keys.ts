/**
 * Every Redis key and pub/sub channel name of the cluster, in one place. All share a configurable
 * prefix (default `hlsdump`) so several deployments can share one Redis.
 */
export const DEFAULT_REDIS_PREFIX = 'hlsdump';

export interface RegistryKeys {
  readonly prefix: string;
  /** Hash: one dump's record. */
  dump(dumpKey: string): string;
  /** Set: ids of the active (not ended) dumps of one output stream. */
  active(vhost: string, app: string, outputStreamName: string): string;
  /** Hash: infoFile path → dumpKey, for the infoFiles active dumps hold. */
  infoFiles(): string;
  /** Set: dumpKeys of every known dump (ended ones until their record expires). */
  dumps(): string;
  /** Sorted set: worker id → last heartbeat (ms since epoch). */
  workers(): string;
  /** Channel: a dump's lifecycle events (`running`, `stopped`, `error`, `withdrawn`). */
  events(dumpKey: string): string;
  /** Channel: control messages (`stop`, `cancel`) for one worker. */
  worker(workerId: string): string;
}

// Names come from URLs and may contain `/` or `:`; encoding keeps (a/b, c) and (a, b/c) apart.
const part = (value: string): string => encodeURIComponent(value);

/**
 * `part` in Lua, for a script that names a channel from what a record holds (a worker's control
 * channel, `keys.worker('')` followed by `keyPart(owner)`): encodeURIComponent of the UTF-8
 * bytes, byte for byte.
 */
export const KEY_PART_LUA = `
local function keyPart(value)
  return (string.gsub(value, "[^A-Za-z0-9%-_%.!~%*'%(%)]", function(c)
    return string.format('%%%02X', string.byte(c))
  end))
end
`;

export function registryKeys(prefix: string = DEFAULT_REDIS_PREFIX): RegistryKeys {
  return {
    prefix,
    dump: (dumpKey) => `${prefix}:dump:${dumpKey}`,
    active: (vhost, app, outputStreamName) =>
      `${prefix}:active:${part(vhost)}/${part(app)}/${part(outputStreamName)}`,
    infoFiles: () => `${prefix}:infofiles`,
    dumps: () => `${prefix}:dumps`,
    workers: () => `${prefix}:workers`,
    events: (dumpKey) => `${prefix}:events:${dumpKey}`,
    worker: (workerId) => `${prefix}:worker:${part(workerId)}`,
  };
}
