import type { DumpRecord } from '@hlsdump/contracts';
import type { DumpRequest } from '@hlsdump/dump-engine';

/** The engine's request from the registry's record: the record is the one source of truth. */
export function dumpRequestOf(record: DumpRecord): DumpRequest {
  const request: DumpRequest = {
    originBaseUrl: record.originBaseUrl,
    playlists: record.playlists,
    outputPath: record.outputPath,
    streamName: `/${record.vhost}/${record.app}/${record.outputStreamName}`,
  };
  if (record.infoFile !== undefined) request.infoFile = record.infoFile;
  if (record.userData !== undefined) request.userData = record.userData;
  if (record.originHeaders !== undefined || record.originCaFile !== undefined) {
    request.origin = {
      ...(record.originHeaders && { headers: record.originHeaders }),
      ...(record.originCaFile !== undefined && { caFile: record.originCaFile }),
    };
  }
  if (record.maxDurationSeconds !== undefined)
    request.maxDurationSeconds = record.maxDurationSeconds;
  if (record.from !== undefined) request.from = record.from;
  return request;
}
