#!/usr/bin/env bash
# Regenerates packages/test-origin/fixtures/: an 8-second loop in three renditions,
# each as init.mp4 + one moof+mdat file per 1-second fragment + manifest.json.
#
#   video_0  320x180 H.264 ~300 kbit/s   video_1  160x90 H.264 ~120 kbit/s
#   audio_0  AAC-LC 48 kHz mono 64 kbit/s
#
# Usage: packages/test-origin/scripts/make-fixtures.sh   (needs ffmpeg, ffprobe, node)
# Output is deterministic for a given ffmpeg build (single-threaded x264, bitexact).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../fixtures"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

seconds=8
common=(-hide_banner -loglevel error -y -fflags +bitexact)
# The HLS muxer cuts one fragment per -hls_time second; we only keep its files.
hls=(-flags +bitexact -f hls -hls_segment_type fmp4 -hls_time 1 -hls_playlist_type vod
  -hls_fmp4_init_filename init.mp4)

video() { # id size bitrate
  local id=$1 size=$2 rate=$3
  mkdir -p "$work/$id"
  ffmpeg "${common[@]}" -f lavfi -i "testsrc2=size=${size}:rate=30" -t "$seconds" \
    -c:v libx264 -threads 1 -profile:v main -preset veryfast -pix_fmt yuv420p \
    -b:v "$rate" -maxrate "$rate" -bufsize "$rate" \
    -g 30 -keyint_min 30 -sc_threshold 0 -bf 0 \
    "${hls[@]}" -hls_segment_filename "$work/$id/frag_%d.m4s" "$work/$id/index.m3u8"
}

audio() { # id
  local id=$1
  mkdir -p "$work/$id"
  # 8 s x 48000 / 1024 = 375 AAC frames exactly, so the loop point lands on a frame edge.
  ffmpeg "${common[@]}" -f lavfi -i "sine=frequency=440:sample_rate=48000" \
    -frames:a $((seconds * 48000 / 1024)) -ac 1 -c:a aac -b:a 64k \
    "${hls[@]}" -hls_segment_filename "$work/$id/frag_%d.m4s" "$work/$id/index.m3u8"
}

video video_0 320x180 300k
video video_1 160x90 120k
audio audio_0

rm -rf "$out"
mkdir -p "$out"
for id in video_0 video_1 audio_0; do
  mkdir -p "$out/$id"
  ffprobe -v error -select_streams 0 -show_entries stream=time_base -of csv=p=0 \
    "$work/$id/init.mp4" >"$work/$id/timebase.txt"
  node "$here/write-fixture-manifest.mjs" "$work/$id" "$out/$id" "$id" "$seconds"
done
du -sh "$out"
