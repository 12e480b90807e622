// Media playlist ("chunklist") text, LL-HLS or plain HLS, modelled on OME's llhls_chunklist.cpp.

export interface ChunklistPart {
  readonly uri: string;
  readonly duration: number;
  readonly independent: boolean;
}

export interface ChunklistSegment {
  readonly msn: number;
  readonly uri: string;
  readonly duration: number;
  readonly complete: boolean;
  readonly programDateTime?: Date;
  readonly discontinuity: boolean;
  /** Listed only for the newest few segments in LL-HLS mode. */
  readonly parts: readonly ChunklistPart[];
}

export interface ChunklistModel {
  readonly lowLatency: boolean;
  readonly targetDuration: number;
  readonly partTarget: number;
  readonly partHoldBack: number;
  readonly mediaSequence: number;
  readonly discontinuitySequence: number;
  readonly mapUri: string;
  readonly segments: readonly ChunklistSegment[];
  readonly preloadHintUri?: string;
  readonly ended: boolean;
}

const decimal = (n: number): string => n.toFixed(6);

export function renderChunklist(model: ChunklistModel): string {
  // OME writes version 6 here (newer OME releases write 10); the tags used need no more than 6.
  const lines = ['#EXTM3U', '#EXT-X-VERSION:6', `#EXT-X-TARGETDURATION:${model.targetDuration}`];
  if (model.lowLatency) {
    lines.push(
      `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${decimal(model.partHoldBack)}`,
      `#EXT-X-PART-INF:PART-TARGET=${decimal(model.partTarget)}`,
    );
  }
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${model.mediaSequence}`);
  if (model.discontinuitySequence > 0)
    lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${model.discontinuitySequence}`);
  lines.push(`#EXT-X-MAP:URI="${model.mapUri}"`);
  for (const segment of model.segments) {
    if (segment.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (segment.programDateTime)
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${segment.programDateTime.toISOString()}`);
    if (model.lowLatency) {
      for (const part of segment.parts) {
        lines.push(
          `#EXT-X-PART:DURATION=${decimal(part.duration)},URI="${part.uri}"${part.independent ? ',INDEPENDENT=YES' : ''}`,
        );
      }
    }
    if (segment.complete) lines.push(`#EXTINF:${decimal(segment.duration)},`, segment.uri);
  }
  if (model.lowLatency && model.preloadHintUri && !model.ended) {
    lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${model.preloadHintUri}"`);
  }
  if (model.ended) lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}
