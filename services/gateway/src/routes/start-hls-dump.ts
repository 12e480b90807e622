import { isAbsolute, resolve } from 'node:path';
import { DuplicateIdError, type DumpRegistry, type OutputPathLocks } from '@hlsdump/contracts';
import type { DumpService } from '../dump-service.js';
import { InfoFileExistsError, OutputPathInUseError } from '../errors.js';
import type { OriginProbe } from '../origin-probe.js';
import { originBaseUrl, type Origins } from '../origins.js';
import { checkOutputPathOnDisk } from '../output-path-check.js';
import { PathLookups } from '../path-lookups.js';
import { checkPlaylistName, type OutputRoots } from '../path-policy.js';
import { checkCallbackHost } from '../start-extensions.js';
import { parseStartBody, requireStartFields } from '../start-request.js';
import type { StreamActionHandler } from './stream-action.js';

export interface StartDeps {
  origins: Origins;
  outputRoots: OutputRoots;
  registry: DumpRegistry;
  service: DumpService;
  probe: OriginProbe;
  /** Hosts a callbackUrl may name (CALLBACK_ALLOWED_HOSTS); none: callbackUrl is refused. */
  callbackAllowedHosts?: readonly string[];
  outputPaths?: OutputPathLocks;
}

/** `:startHlsDump` — the checks of docs/api.md#start-checks, in that order, then the start itself. */
export function startHlsDump(deps: StartDeps): StreamActionHandler {
  return async (req, res, { vhost, app, stream }) => {
    const body = parseStartBody(req.body); // 1
    const appOrigin = deps.origins.app(vhost, app); // 2, 3
    const fields = requireStartFields(body); // 4
    const { outputStreamName, id } = fields;
    const playlists = [...new Set(body.playlist ?? [appOrigin.defaultPlaylist])];
    // Names go into origin URLs and output file names: judged before anything uses them.
    for (const name of playlists) checkPlaylistName(name);
    const streamPath = `${vhost}/${app}/${outputStreamName}`;
    const base = originBaseUrl(appOrigin, { vhost, app, stream, outputStreamName });
    const probe = deps.probe(
      `${base}${encodeURIComponent(playlists[0] ?? appOrigin.defaultPlaylist)}`,
      streamPath,
      appOrigin.access,
    ); // 5
    // Checks 6–8 only read (Redis, the disk): they run while the origin answers check 5, and
    // each other's lookups go out together, not one after another; the first failure in the
    // contract's order still decides the answer. Only the look inside outputPath waits for the
    // path policy: nothing outside the roots is listed.
    const checks = (async () => {
      const lookups = new PathLookups();
      const active = deps.registry.isActive(vhost, app, outputStreamName, id); // 6
      const infoFileTaken =
        body.infoFile !== undefined && isAbsolute(body.infoFile)
          ? infoFileInUse(deps.registry, resolve(body.infoFile), lookups)
          : Promise.resolve(undefined);
      const outputPolicy = deps.outputRoots.check(
        'outputPath',
        fields.outputPath,
        'directory',
        lookups,
      ); // 7
      const infoFilePolicy =
        body.infoFile === undefined
          ? Promise.resolve(undefined)
          : deps.outputRoots.check('infoFile', body.infoFile, 'file', lookups);
      const holder = outputPolicy.then((path) => deps.outputPaths?.holder(path)); // 8
      // Every lookup is awaited (none left to fail unheard), then judged in the contract's order.
      const [active6, taken6, output7, info7, holder8] = await Promise.allSettled([
        active,
        infoFileTaken,
        outputPolicy,
        infoFilePolicy,
        holder,
      ]);
      if (valueOrThrow(active6)) throw new DuplicateIdError(id);
      const taken = valueOrThrow(taken6);
      if (taken !== undefined) throw new InfoFileExistsError(taken);
      const outputPath = valueOrThrow(output7);
      const infoFile = valueOrThrow(info7);
      const heldBy = valueOrThrow(holder8);
      if (heldBy) throw new OutputPathInUseError(outputPath, heldBy);
      await checkOutputPathOnDisk(outputPath, lookups); // 8
      return { outputPath, infoFile };
    })();
    const [probed, checked] = await Promise.allSettled([probe, checks]);
    if (probed.status === 'rejected') throw probed.reason;
    if (checked.status === 'rejected') throw checked.reason;
    const { outputPath: resolvedOutputPath, infoFile } = checked.value;
    if (body.callbackUrl !== undefined)
      checkCallbackHost(body.callbackUrl, deps.callbackAllowedHosts ?? []);
    await deps.service.start({
      vhost,
      app,
      stream,
      outputStreamName,
      id,
      outputPath: resolvedOutputPath,
      ...(infoFile !== undefined && { infoFile }),
      // OME writes userData only into an infoFile; without one it has nowhere to go.
      ...(infoFile !== undefined && body.userData !== undefined && { userData: body.userData }),
      playlists,
      originBaseUrl: base,
      ...(appOrigin.access.headers && { originHeaders: appOrigin.access.headers }),
      ...(appOrigin.access.caFile !== undefined && { originCaFile: appOrigin.access.caFile }),
      ...(body.maxDurationSeconds !== undefined && { maxDurationSeconds: body.maxDurationSeconds }),
      ...(body.from !== undefined && body.from !== 'live' && { from: body.from }),
      ...(body.callbackUrl !== undefined && { callbackUrl: body.callbackUrl }),
    });
    res.json({ statusCode: 200, message: 'OK', response: [outputStreamName] });
  };
}

/** The infoFile (absolute, resolved) when it exists on disk or an active dump holds it. */
async function infoFileInUse(
  registry: DumpRegistry,
  infoFile: string,
  lookups: PathLookups,
): Promise<string | undefined> {
  const [onDisk, holder] = await Promise.all([
    lookups.lstat(infoFile).then(
      (stats) => stats !== undefined,
      () => false,
    ),
    registry.infoFileHolder(infoFile),
  ]);
  return onDisk || holder !== null ? infoFile : undefined;
}

function valueOrThrow<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}
