/**
 * Indentation mistakes, found line by line. The YAML parser notices a wrong indentation late and
 * reports it in its own terms: on the line before ("Nested mappings are not allowed in compact
 * mappings" at `type: tcp` when the next line is too deep), two to four errors for one mistake, and
 * a hint about quoting that does not apply. This pass knows which keys are open at each line, so it can
 * say which line is wrong and how far it should be indented. It only runs when the parser found errors
 * (valid files never pay for it), and only block-style lines with a key or a dash are judged: anything
 * it does not understand (flow collections, block and multi-line scalars) is skipped, not guessed at.
 */

export interface IndentProblem {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  readonly message: string;
  readonly hint: string;
  /** The indentation (spaces) the line should have: the text with it applied parses past this line. */
  readonly expected: number;
}

interface Level {
  /** Column (0-based) of the key or dash. */
  readonly indent: number;
  readonly line: number;
  readonly name: string;
}

/** `key:` at the start of a line's content (plain, or quoted without the quote inside). */
const KEY = /^("[^"]*"|'[^']*'|[^\s#'"{[\]},&*!|>%@`-][^#]*?|-[^\s#][^#]*?)\s*:(?:\s+|$)/;

export function indentProblems(text: string): IndentProblem[] {
  const lines = text.split(/\r?\n/);
  const problems: IndentProblem[] = [];
  let stack: Level[] = [];
  /** The previous judged line: its innermost level, and whether it opened a block for the next lines. */
  let prev: { level: Level; opens: boolean } | undefined;
  /** Lines deeper than this belong to a value that started above (block scalar, flow, quoted). */
  let skipDeeperThan: number | undefined;

  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n] as string;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const lead = /^[ \t]*/.exec(raw)?.[0] ?? "";
    if (skipDeeperThan !== undefined) {
      if (!lead.includes("\t") && lead.length > skipDeeperThan) continue;
      skipDeeperThan = undefined;
    }
    if (/^(---|\.\.\.)(\s|$)/.test(raw)) {
      stack = [];
      prev = undefined;
      continue;
    }
    const content = raw.slice(lead.length);
    const key = keyOf(content.replace(/^(-\s+)+/, ""));
    const dash = content.startsWith("- ") || content === "-";
    // Continuation lines of a multi-line plain value have neither: not ours to judge.
    if (key === undefined && !dash) continue;
    const name = dash ? "-" : (key as string);
    const line = n + 1;

    let indent = lead.length;
    const pop = (to: number): void => {
      while (stack.length > 0 && (stack[stack.length - 1] as Level).indent > to) stack.pop();
    };
    const expected = (): { indent: number; why: string } => {
      if (prev?.opens === true) {
        const deeper = prev.level.indent + 2;
        return { indent: deeper, why: `deeper than "${prev.level.name}" on line ${prev.level.line}` };
      }
      const sibling = prev?.level ?? stack[stack.length - 1];
      return sibling === undefined
        ? { indent: 0, why: "at the start of the line" }
        : { indent: sibling.indent, why: `like "${sibling.name}" on line ${sibling.line}` };
    };

    if (lead.includes("\t")) {
      const want = expected();
      problems.push({
        line,
        column: 1,
        message: "a tab indents this line: YAML indents with spaces only",
        hint: `indent it with ${want.indent} spaces (${want.why})`,
        expected: want.indent,
      });
      indent = want.indent;
    } else {
      const open = [...stack];
      pop(indent);
      const top = stack[stack.length - 1];
      const child = prev !== undefined && prev.opens && indent > prev.level.indent;
      const sibling = top !== undefined && top.indent === indent;
      if (!child && !sibling && !(stack.length === 0 && indent === 0)) {
        const problem = misplaced(indent, line, name, prev, open);
        problems.push(problem.problem);
        indent = problem.indent;
        stack = open;
        pop(indent);
      }
    }
    // The latest key at a column names that level in messages ("like "type" on line 5").
    if (stack[stack.length - 1]?.indent === indent) stack.pop();
    stack.push({ indent, line, name });

    // Levels this line opens: each `- ` starts an item whose mapping keys sit after the dash.
    let level = stack[stack.length - 1] as Level;
    let rest = content;
    let column = indent;
    while (rest.startsWith("- ") || rest === "-") {
      const after = rest.slice(1).replace(/^\s+/, "");
      column += rest.length - after.length;
      rest = after;
      if (rest === "") break;
      level = { indent: column, line, name: keyOf(rest) ?? "-" };
      stack.push(level);
    }
    const value = rest === "" ? "" : valueOf(rest);
    const opens = value === "" || /^[&!][^\s]*$/.test(value);
    if (/^[|>]/.test(value)) skipDeeperThan = indent;
    else if (/^[{[]/.test(value) && !balanced(value)) skipDeeperThan = indent;
    else if (/^["']/.test(value) && !closedQuote(value)) skipDeeperThan = indent;
    prev = { level, opens };
  }
  return problems;
}

function keyOf(content: string): string | undefined {
  const match = KEY.exec(content);
  if (match === null) return undefined;
  return (match[1] as string).replace(/^["']|["']$/g, "");
}

/** The value after `key:` (comment removed), or "" when the line only opens a block. */
function valueOf(content: string): string {
  const match = KEY.exec(content);
  if (match === null) return content.trim();
  return content
    .slice(match[0].length)
    .replace(/\s+#.*$/, "")
    .trim();
}

function balanced(value: string): boolean {
  let depth = 0;
  for (const ch of value.replace(/"[^"]*"|'[^']*'/g, "")) {
    if (ch === "{" || ch === "[") depth++;
    else if (ch === "}" || ch === "]") depth--;
  }
  return depth <= 0;
}

/** Whether a quoted value closes on its line (`\"` escapes in double quotes, `''` in single). */
function closedQuote(value: string): boolean {
  const quote = value[0] as string;
  const body = value.slice(1);
  for (let i = 0; i < body.length; i++) {
    if (quote === '"' && body[i] === "\\") i++;
    else if (body[i] === quote && quote === "'" && body[i + 1] === "'") i++;
    else if (body[i] === quote) return true;
  }
  return false;
}

/** A line at a column no open block uses: say which columns would fit, nearest first. */
function misplaced(
  indent: number,
  line: number,
  name: string,
  prev: { level: Level; opens: boolean } | undefined,
  stack: readonly Level[],
): { problem: IndentProblem; indent: number } {
  const what = name === "-" ? "this list item" : `"${name}"`;
  const spaces = (n: number): string => `${n} space${n === 1 ? "" : "s"}`;
  if (prev !== undefined && !prev.opens && indent > prev.level.indent) {
    // Deeper than a key that already has a value: the parser reads the two lines as one broken key.
    const holder = prev.level;
    return {
      indent: holder.indent,
      problem: {
        line,
        column: indent + 1,
        message: `${what} is indented ${spaces(indent)}, deeper than "${holder.name}" on line ${holder.line}, which already has a value`,
        hint: `indent it ${spaces(holder.indent)} like "${holder.name}" (or fewer to end that block)`,
        expected: holder.indent,
      },
    };
  }
  // Between two open levels: the nearest ones are what was meant, a list item's first if it is one.
  const isItem = name === "-";
  const levels = [...stack].sort(
    (a, b) =>
      Number((b.name === "-") === isItem) - Number((a.name === "-") === isItem) ||
      Math.abs(a.indent - indent) - Math.abs(b.indent - indent) ||
      b.indent - a.indent,
  );
  const options = levels.slice(0, 2);
  const best = options[0];
  const label = (l: Level): string => (l.name === "-" ? "the list item" : `"${l.name}"`);
  const fit = options.map((l) => `${spaces(l.indent)} like ${label(l)} on line ${l.line}`).join(", or ");
  return {
    indent: best?.indent ?? 0,
    problem: {
      line,
      column: indent + 1,
      message: `${what} is indented ${spaces(indent)}, which matches no open block`,
      hint: best === undefined ? "indent it 0 spaces" : `indent it ${fit}`,
      expected: best?.indent ?? 0,
    },
  };
}

/** `text` with each problem line re-indented as expected (line numbers unchanged). */
export function reindented(text: string, problems: readonly IndentProblem[]): string {
  const lines = text.split("\n");
  for (const p of problems) {
    const line = lines[p.line - 1];
    if (line !== undefined) lines[p.line - 1] = " ".repeat(p.expected) + line.replace(/^[ \t]*/, "");
  }
  return lines.join("\n");
}
