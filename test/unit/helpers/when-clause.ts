/**
 * Evaluates a VS Code `when` clause against a context, for the subset package.json uses: keys,
 * `!`, `&&`, `||`, parentheses, `==` / `!=` with a bare value, and `=~` with a /regex/.
 */
export type WhenContext = Record<string, string | boolean | undefined>;

type Token = { t: 'op'; v: string } | { t: 'word'; v: string } | { t: 'regex'; v: RegExp };

function tokenize(clause: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < clause.length) {
    const rest = clause.slice(i);
    const space = /^\s+/.exec(rest);
    const op = /^(&&|\|\||==|!=|=~|!|\(|\))/.exec(rest);
    const regex = /^\/((?:\\.|[^/\\])*)\/([gimsuy]*)/.exec(rest);
    const word = /^[\w.:-]+/.exec(rest);
    if (space) i += space[0].length;
    else if (regex && out.at(-1)?.v === '=~') {
      out.push({ t: 'regex', v: new RegExp(regex[1]!, regex[2]) });
      i += regex[0].length;
    } else if (op) {
      out.push({ t: 'op', v: op[0] });
      i += op[0].length;
    } else if (word) {
      out.push({ t: 'word', v: word[0] });
      i += word[0].length;
    } else throw new Error(`when clause "${clause}": cannot read at ${i}: ${rest}`);
  }
  return out;
}

export function evaluateWhen(clause: string, ctx: WhenContext): boolean {
  const tokens = tokenize(clause);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const fail = (what: string): never => {
    throw new Error(`when clause "${clause}": expected ${what} at token ${pos}`);
  };
  const or = (): boolean => {
    let v = and();
    while (peek()?.v === '||') {
      pos++;
      v = and() || v;
    }
    return v;
  };
  const and = (): boolean => {
    let v = unary();
    while (peek()?.v === '&&') {
      pos++;
      v = unary() && v;
    }
    return v;
  };
  const unary = (): boolean => {
    const tok = peek();
    if (tok?.v === '!') {
      pos++;
      return !unary();
    }
    if (tok?.v === '(') {
      pos++;
      const v = or();
      if (peek()?.v !== ')') fail('")"');
      pos++;
      return v;
    }
    if (tok?.t !== 'word') return fail('a context key');
    pos++;
    const value = ctx[tok.v];
    const op = peek();
    if (op?.v === '==' || op?.v === '!=') {
      pos++;
      const rhs = peek();
      if (rhs?.t !== 'word') return fail('a value');
      pos++;
      return (String(value) === rhs.v) === (op.v === '==');
    }
    if (op?.v === '=~') {
      pos++;
      const rhs = peek();
      if (rhs?.t !== 'regex') return fail('a /regex/');
      pos++;
      return rhs.v.test(value === undefined ? '' : String(value));
    }
    return Boolean(value);
  };
  const v = or();
  if (pos !== tokens.length) fail('the end');
  return v;
}

/** Context keys a clause reads (the left-hand sides and bare keys). */
export function whenKeys(clause: string): string[] {
  const tokens = tokenize(clause);
  return tokens.filter((t, i) => t.t === 'word' && !['==', '!='].includes(tokens[i - 1]?.v as string)).map((t) => t.v as string);
}
