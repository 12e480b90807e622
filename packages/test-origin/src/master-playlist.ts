// Multivariant playlist in the shape OME writes (llhls_master_playlist.cpp).

export interface MasterVariant {
  readonly uri: string;
  readonly bandwidth: number;
  readonly averageBandwidth: number;
  readonly resolution: { readonly width: number; readonly height: number };
  readonly frameRate: number;
  readonly codecs: string;
}

export interface MasterAudio {
  readonly groupId: string;
  readonly name: string;
  readonly uri: string;
  readonly channels: number;
  readonly bandwidth: number;
  readonly averageBandwidth: number;
  readonly codecs: string;
}

export function renderMasterPlaylist(
  variants: readonly MasterVariant[],
  audio: MasterAudio,
): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  lines.push(
    `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${audio.groupId}",NAME="${audio.name}",AUTOSELECT=YES,DEFAULT=YES,` +
      `CHANNELS="${audio.channels}",URI="${audio.uri}"`,
    '',
  );
  for (const v of variants) {
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${v.bandwidth + audio.bandwidth},` +
        `AVERAGE-BANDWIDTH=${v.averageBandwidth + audio.averageBandwidth},` +
        `RESOLUTION=${v.resolution.width}x${v.resolution.height},FRAME-RATE=${v.frameRate.toFixed(3)},` +
        `CODECS="${v.codecs},${audio.codecs}",AUDIO="${audio.groupId}"`,
      v.uri,
    );
  }
  return lines.join('\n') + '\n';
}
