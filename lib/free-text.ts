/**
 * Free text from outside (support bodies and subjects, Intercom HTML) is cut to a bounded length before any regular
 * expression or classifier reads it, so that no request can hold the event loop for longer than a bounded amount of
 * work. The patterns that read it afterwards are linear too (see `htmlToText`); the cap bounds their constant.
 */

/** A support message as the classifier reads it: the API refuses longer bodies (400), Intercom's are cut. */
export const MAX_MESSAGE_CHARS = 10_000;
/** A subject line. */
export const MAX_SUBJECT_CHARS = 500;
/** Intercom HTML before its tags are stripped: markup takes room, so more than the text it carries. */
export const MAX_HTML_CHARS = 100_000;

/** The first `max` UTF-16 units of `text`, never ending inside a surrogate pair. */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return text.slice(0, end);
}

/** Spaces and tabs at the end of each line removed, in one linear pass (a `/[ \t]+\n/g` is quadratic on long runs). */
export function trimLineEnds(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      let end = line.length;
      while (end > 0 && (line[end - 1] === ' ' || line[end - 1] === '\t')) end--;
      return end === line.length ? line : line.slice(0, end);
    })
    .join('\n');
}
