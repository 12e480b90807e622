/**
 * What the client accepts of an origin's 2xx answer before its body is used: a whole body (a 206
 * only when it covers the whole resource), no HTML error page, a content encoding it can decode,
 * a playlist within its size limit and in valid UTF-8.
 */
import type { Readable } from 'node:stream';
import { Transform, pipeline } from 'node:stream';
import * as zlib from 'node:zlib';
import { OriginAnswerError } from './origin-errors.js';
import { PlaylistParseError } from './playlist-parse-error.js';

export type AnswerHeaders = Record<string, string | string[] | undefined>;

/** What the client asks for: playlists compress well, media is already compressed. */
export const PLAYLIST_ACCEPT_ENCODING = 'gzip, deflate, br';
export const MEDIA_ACCEPT_ENCODING = 'identity';

function header(headers: AnswerHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Refuses a 2xx answer that cannot be the resource asked for. A 206 to a request without Range is
 * taken only when its Content-Range spans the whole resource (`bytes 0-(n-1)/n`): any other part
 * would be written as if it were the segment. (HTML pages are told by their bytes too: see
 * htmlGuard and refuseHtmlPlaylist.)
 */
export function checkAnswer(status: number, headers: AnswerHeaders, url: string): void {
  if (status === 206) {
    const range = header(headers, 'content-range') ?? '';
    const whole = /^bytes\s+0-(\d+)\/(\d+)\s*$/i.exec(range);
    if (!whole || Number(whole[1]) + 1 !== Number(whole[2])) {
      throw new OriginAnswerError(
        'ORIGIN_PARTIAL_CONTENT',
        url,
        `206 Partial Content (${range || 'no Content-Range'}) to a request for the whole resource`,
      );
    }
  }
}

/**
 * An HTML page is told by its Content-Type and its first byte both: an error page starts with
 * markup, while media and playlists never start with `<`. A mislabelled segment (text/html, media
 * bytes) is kept, since refusing it would lose a good segment to a server's configuration.
 */
function isHtmlType(headers: AnswerHeaders): boolean {
  return (header(headers, 'content-type') ?? '').toLowerCase().startsWith('text/html');
}

function htmlPage(url: string, headers: AnswerHeaders): OriginAnswerError {
  return new OriginAnswerError(
    'ORIGIN_HTML_PAGE',
    url,
    `Content-Type ${header(headers, 'content-type')} and markup: an HTML page where a playlist or media was expected`,
  );
}

function startsWithMarkup(chunk: Buffer): boolean {
  const first = chunk.find(
    (byte) => byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d,
  );
  return first === 0x3c; // '<'
}

/** For media: the body itself, or, for text/html, the body behind a check of its first bytes. */
export function htmlGuard(body: Readable, headers: AnswerHeaders, url: string): Readable {
  if (!isHtmlType(headers)) return body;
  let checked = false;
  const guard = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (!checked) {
        checked = true;
        if (startsWithMarkup(chunk)) return done(htmlPage(url, headers));
      }
      done(null, chunk);
    },
  });
  pipeline(body, guard, () => undefined);
  return guard;
}

/** For playlists, once read: text/html whose text starts with markup is an HTML page. */
export function refuseHtmlPlaylist(text: string, headers: AnswerHeaders, url: string): void {
  if (isHtmlType(headers) && text.trimStart().startsWith('<')) throw htmlPage(url, headers);
}

type Decoder = () => zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress;

const DECODERS: Record<string, Decoder> = {
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  // "deflate" is meant to be zlib-wrapped, yet some servers send raw deflate: accept both.
  deflate: () => zlib.createUnzip(),
  br: () => zlib.createBrotliDecompress(),
};

/** The Content-Encoding's codings, in the order applied; one the client cannot decode is refused. */
function contentCodings(headers: AnswerHeaders, url: string): string[] {
  const codings = (header(headers, 'content-encoding') ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  const unknown = codings.find((c) => DECODERS[c] === undefined);
  if (unknown !== undefined) {
    throw new OriginAnswerError(
      'ORIGIN_CONTENT_ENCODING',
      url,
      `Content-Encoding ${unknown} cannot be decoded (gzip, deflate and br can)`,
    );
  }
  return codings;
}

/**
 * The body as the resource's bytes: a Content-Encoding the client knows (gzip, deflate, br) is
 * decoded whether or not it was asked for; any other is refused. A decoder failure (a corrupt or
 * truncated compressed body) destroys the returned stream with ORIGIN_CONTENT_ENCODING.
 */
export function decodedBody(body: Readable, headers: AnswerHeaders, url: string): Readable {
  const codings = contentCodings(headers, url);
  if (codings.length === 0) return body;
  // Codings are listed in the order applied: undo them last first.
  const stages = codings.reverse().map((c) => DECODERS[c]!());
  for (const stage of stages) {
    stage.on('error', (error: Error & { code?: unknown }) => {
      // Only the decoder's own failures: an upstream error (a reset, a deadline) passes through
      // every stage too, and must keep its own name.
      if (typeof error.code === 'string' && ZLIB_ERROR.test(error.code)) decodeFailures.add(error);
    });
  }
  // pipeline destroys every stage with the first error, so the last one reports any failure.
  pipeline([body, ...stages], () => undefined);
  return stages[stages.length - 1]!;
}

const decodeFailures = new WeakSet<object>();
/** zlib's codes (Z_DATA_ERROR, Z_BUF_ERROR...) and brotli's (ERR__ERROR_FORMAT_...). */
const ZLIB_ERROR = /^(Z_|ERR__ERROR_|ERR_BROTLI)/;

/** A decoder's own failure (corrupt or truncated compressed body) as the client's typed error. */
export function asDecodeError(error: unknown, url: string): OriginAnswerError | undefined {
  if (typeof error !== 'object' || error === null || !decodeFailures.has(error)) return undefined;
  return new OriginAnswerError(
    'ORIGIN_CONTENT_ENCODING',
    url,
    `the compressed body does not decode: ${(error as Error).message}`,
    { cause: error },
  );
}

type OneShotDecoder = (bytes: Buffer, options: { maxOutputLength: number }) => Buffer;

const ONE_SHOT_DECODERS: Record<string, OneShotDecoder> = {
  gzip: zlib.gunzipSync,
  'x-gzip': zlib.gunzipSync,
  deflate: zlib.unzipSync,
  br: zlib.brotliDecompressSync,
};

/**
 * Reads a playlist body to text: at most `maxBytes` (counted after decoding, so a small
 * compressed bomb is caught too) and valid UTF-8, as RFC 8216 §4.1 requires.
 *
 * A compressed playlist is read whole as it came, then decoded in one call on this thread: a
 * playlist is a few KiB reloaded every few seconds per rendition, and a decoding stream for each
 * (a pipeline, its events, a hand-off to the thread pool per chunk) cost far more than the
 * decoding itself.
 */
export async function readPlaylistText(
  body: Readable,
  headers: AnswerHeaders,
  url: string,
  maxBytes: number,
): Promise<string> {
  const codings = contentCodings(headers, url);
  const declared = Number(header(headers, 'content-length'));
  if (Number.isFinite(declared) && declared > maxBytes && codings.length === 0) {
    throw tooLarge(url, maxBytes, `Content-Length ${declared}`);
  }
  // Compressed text is smaller than the text, bar a few header bytes: past this, the text is too.
  const maxRaw = codings.length === 0 ? maxBytes : maxBytes + 64 * 1024;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxRaw) {
      discardBody(body);
      throw tooLarge(url, maxBytes, 'the body');
    }
    chunks.push(chunk);
  }
  let bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  // Codings are listed in the order applied: undo them last first.
  for (const coding of codings.reverse()) {
    try {
      bytes = ONE_SHOT_DECODERS[coding]!(bytes, { maxOutputLength: maxBytes });
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE')
        throw tooLarge(url, maxBytes, 'the body');
      throw new OriginAnswerError(
        'ORIGIN_CONTENT_ENCODING',
        url,
        `the compressed body does not decode: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new PlaylistParseError(url, 'is not valid UTF-8');
  }
}

/**
 * Destroys a body we will not read. undici's body reports a destroy before its end as an 'error'
 * event; with no listener that event would be an uncaught exception that ends the process.
 */
export function discardBody(body: Readable, error?: Error): void {
  body.on('error', ignore);
  body.destroy(error);
}

function ignore(): void {
  // Whoever still reads the body sees the error through its own listener.
}

function tooLarge(url: string, maxBytes: number, what: string): OriginAnswerError {
  return new OriginAnswerError(
    'ORIGIN_BODY_TOO_LARGE',
    url,
    `${what} exceeds the playlist size limit of ${maxBytes} bytes`,
  );
}
