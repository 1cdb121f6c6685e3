/**
 * The tags the annotation form offers (setting `ivgr.annotation.tags`). The approval tag marks a
 * good trace; every other tag marks a failure, which is how annotation-export.ts splits SFT from
 * DPO and failure cases.
 */
import { APPROVAL_TAG } from './annotation-export';

export const DEFAULT_ANNOTATION_TAGS: readonly string[] = [
  APPROVAL_TAG,
  'wrong-region',
  'right-region-wrong-answer',
  'hallucinated-box',
  'format',
  'other',
];

/** The panel protocol's bounds on the tag list (HostMessage `init.tags`). */
const MAX_TAGS = 32;
const MAX_TAG_LENGTH = 64;

export interface ParsedTags {
  tags: string[];
  /** Why the value was refused (the defaults are used instead), or null when it was valid. */
  problem: string | null;
}

/** Checks the setting's value: a non-empty list of unique, non-empty strings, trimmed. */
export function parseAnnotationTags(value: unknown): ParsedTags {
  const key = 'ivgr.annotation.tags';
  const refuse = (problem: string): ParsedTags => ({
    tags: [...DEFAULT_ANNOTATION_TAGS],
    problem: `${problem}; using the default tags (${DEFAULT_ANNOTATION_TAGS.join(', ')})`,
  });
  if (!Array.isArray(value)) return refuse(`${key}: expected a list of tag names, got ${JSON.stringify(value) ?? String(value)}`);
  if (value.length === 0) return refuse(`${key}: expected at least one tag, got an empty list`);
  if (value.length > MAX_TAGS) return refuse(`${key}: expected at most ${MAX_TAGS} tags, got ${value.length}`);
  const tags: string[] = [];
  for (const [i, raw] of value.entries()) {
    const tag = typeof raw === 'string' ? raw.trim() : '';
    if (tag === '' || tag.length > MAX_TAG_LENGTH)
      return refuse(`${key}[${i}]: expected a tag name of 1-${MAX_TAG_LENGTH} characters, got ${JSON.stringify(raw)}`);
    const first = tags.indexOf(tag);
    if (first >= 0) return refuse(`${key}[${i}]: "${tag}" is already listed at [${first}]; expected unique tags`);
    tags.push(tag);
  }
  return { tags, problem: null };
}
