/** Normalising model answers so "(B)", "b." and "the answer is B" all count as B. */

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Lead-ins a model puts before its answer: "So the final answer is:", "Answer:", "Option". */
const ANSWER_PREFIX =
  /^(?:(?:so|thus|therefore|hence)[,\s]+)?(?:the\s+)?(?:final\s+|correct\s+|best\s+)?(?:answer|option|choice)\b(?:\s+is)?\s*[:：]?\s*/i;

/** Strip markdown emphasis, quotes and surrounding punctuation a model wraps an answer in. */
function stripWrapping(text: string): string {
  return text
    .trim()
    .replace(/^[\s*_`"'“”‘’]+/, '')
    .replace(/[\s*_`"'“”‘’.!。]+$/, '')
    .trim();
}

function letterFor(index: number): string {
  return LETTERS[index] ?? '';
}

/**
 * Letter at the head of `s` when written as an option label: "B", "(B)", "B)", "B.", "B:", "[B]".
 * `strong` unless it is a bare letter followed by more words, which only counts after an
 * explicit "answer is" (`looseTail`) and even then could be an article ("the answer is a dog").
 */
function leadingLetter(s: string, looseTail: boolean): { letter: string; strong: boolean } | null {
  const m = /^[([]?([A-Za-z])(?:([)\].:：])|(?=\s|$))/.exec(s);
  if (!m) return null;
  const opened = s.startsWith('(') || s.startsWith('[');
  const delimited = m[2] !== undefined;
  if (opened && !delimited) return null;
  const strong = delimited || s.slice(m[0].length).trim().length === 0;
  if (!strong && !looseTail) return null;
  return { letter: m[1]!.toUpperCase(), strong };
}

function optionIndex(s: string, options: readonly string[]): number {
  const wanted = normalizeFree(s);
  return wanted.length === 0 ? -1 : options.findIndex((o) => normalizeFree(o) === wanted);
}

/** "(B)", "B.", "b", "Answer: B", "B) red", "the answer is B" -> "B"; option text itself ("red") -> its letter when options given; else null. */
export function normalizeChoice(text: string, options?: readonly string[]): string | null {
  const count = options && options.length > 0 ? Math.min(options.length, LETTERS.length) : LETTERS.length;
  let s = stripWrapping(text);
  let prefixed = false;
  const p = ANSWER_PREFIX.exec(s);
  if (p && p[0].length > 0 && p[0].length < s.length) {
    s = stripWrapping(s.slice(p[0].length));
    prefixed = true;
  }
  const head = leadingLetter(s, prefixed);
  const inRange = head !== null && LETTERS.indexOf(head.letter) < count;
  if (head && inRange && head.strong) return head.letter;
  if (options && options.length > 0) {
    const index = optionIndex(s, options);
    if (index >= 0 && index < LETTERS.length) return letterFor(index);
  }
  return head && inRange ? head.letter : null;
}

const UNITS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const NUMBER_WORDS = new Map<string, number>();
UNITS.forEach((w, i) => NUMBER_WORDS.set(w, i));
TENS.forEach((w, i) => {
  if (!w) return;
  NUMBER_WORDS.set(w, i * 10);
  for (let u = 1; u < 10; u++) NUMBER_WORDS.set(`${w}-${UNITS[u]}`, i * 10 + u);
});
NUMBER_WORDS.set('hundred', 100);

const ARTICLES = new Set(['a', 'an', 'the']);
const NUMERIC = /^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$/;

function normalizeNumber(token: string): string {
  if (!NUMERIC.test(token)) return token;
  const n = Number(token.replace(/,/g, ''));
  return Number.isFinite(n) ? String(n) : token;
}

/** Case, surrounding punctuation, articles, whitespace, number words ("three" -> "3"), "3.0" -> "3". */
export function normalizeFree(text: string): string {
  // Dropping an article or expanding a character can expose punctuation at an edge
  // ("5 ? a"), so passes repeat until nothing changes: the result is a fixed point.
  let current = normalizeOnce(text);
  for (let i = 0; i < 8; i++) {
    const next = normalizeOnce(current);
    if (next === current) break;
    current = next;
  }
  return current;
}

function normalizeOnce(text: string): string {
  const lowered = text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
  // Surrounding punctuation only: inner punctuation (3.5, e-mail, o'clock) carries meaning.
  const trimmed = lowered.replace(/^[\s\p{P}\p{S}]+/u, '').replace(/[\s\p{P}\p{S}]+$/u, '');
  // "twenty one" is written "twenty-one" before lookup so both spellings agree.
  const joined = trimmed.replace(
    /\b(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety) (one|two|three|four|five|six|seven|eight|nine)\b/g,
    '$1-$2',
  );
  const words = joined.split(' ').filter((w) => w.length > 0 && !ARTICLES.has(w));
  return words
    .map((w) => {
      const n = NUMBER_WORDS.get(w);
      return n !== undefined ? String(n) : normalizeNumber(w);
    })
    .join(' ');
}

/** Multiple choice when `options` is non-empty (compared as letters), else free-form after `normalizeFree`. */
export function answersMatch(predicted: string | null, expected: string, options?: readonly string[]): boolean {
  if (predicted === null) return false;
  if (options && options.length > 0) {
    const want = normalizeChoice(expected, options) ?? expected.trim().toUpperCase();
    return normalizeChoice(predicted, options) === want;
  }
  const want = normalizeFree(expected);
  return want.length > 0 && normalizeFree(predicted) === want;
}
