import { tagAttributes, tagName } from '@hlsdump/hls-client';

/**
 * The lines of a copied master that still name the origin (session data, a session key at the
 * origin), each as a notice: the copy reads them only where the origin answers. Renditions are
 * local by then, so a line left pointing at HTTP is one the copy depends on the origin for.
 */
export function masterOriginNotices(copiedMaster: string): { tag: string; message: string }[] {
  const notices: { tag: string; message: string }[] = [];
  for (const raw of copiedMaster.split('\n')) {
    const line = raw.trim();
    if (line === '' || (line.startsWith('#') && !line.startsWith('#EXT'))) continue;
    const tag = line.startsWith('#') ? tagName(line) : 'URI';
    const uri = line.startsWith('#') ? tagAttributes(line).get('URI') : line;
    if (uri === undefined || !/^https?:\/\//i.test(uri)) continue;
    const origin = new URL(uri).origin;
    notices.push({
      tag,
      message: `URI kept at the origin: the copy reads ${new URL(uri).pathname} only where ${origin} answers`,
    });
  }
  return notices;
}
