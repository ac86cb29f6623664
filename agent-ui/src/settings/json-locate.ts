// Where a JSON path ("rules[0].actions[1].params") is in a JSON text, so an error the server
// reports at a path can be shown and selected in the editor; and where a syntax error is.

export interface TextRange {
  start: number;
  end: number;
  line: number;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let index = 0; index < offset && index < text.length; index++) if (text[index] === '\n') line++;
  return line;
}

/** "rules[0].actions[1]" → ['rules', 0, 'actions', 1] */
export function pathSegments(path: string): Array<string | number> {
  const segments: Array<string | number> = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) segments.push(match[2] !== undefined ? Number(match[2]) : match[1]!);
  return segments;
}

/**
 * The range of the value at `path` (the deepest part of it that exists), or null when the
 * text is not JSON. A tiny scanner: enough for documents `JSON.parse` accepts.
 */
export function locatePath(text: string, path: string): TextRange | null {
  const wanted = pathSegments(path);
  let position = 0;
  let best: TextRange = { start: 0, end: 0, line: 1 };
  let bestDepth = -1;
  const skipSpace = (): void => {
    while (position < text.length && /\s/.test(text[position]!)) position++;
  };
  const readString = (): string => {
    const start = position;
    position++;
    while (position < text.length && text[position] !== '"') position += text[position] === '\\' ? 2 : 1;
    position++;
    return JSON.parse(text.slice(start, position)) as string;
  };
  // Scans one value; `depth` is how many segments of `wanted` led here.
  const value = (depth: number, onPath: boolean): void => {
    skipSpace();
    const start = position;
    const character = text[position];
    if (character === '{' || character === '[') {
      const isObject = character === '{';
      position++;
      let index = 0;
      skipSpace();
      while (position < text.length && text[position] !== (isObject ? '}' : ']')) {
        let key: string | number = index;
        if (isObject) {
          skipSpace();
          key = readString();
          skipSpace();
          position++; // the colon
        }
        value(depth + 1, onPath && wanted[depth] === key);
        skipSpace();
        if (text[position] === ',') position++;
        skipSpace();
        index++;
      }
      position++;
    } else if (character === '"') {
      readString();
    } else {
      while (position < text.length && !/[\s,}\]]/.test(text[position]!)) position++;
    }
    // Values are finished inside out, so the first (deepest) one on the path wins.
    if (onPath && depth > bestDepth) {
      best = { start, end: position, line: lineAt(text, start) };
      bestDepth = depth;
    }
  };
  try {
    JSON.parse(text);
    value(0, true);
  } catch {
    return null;
  }
  return best;
}

/** A syntax error's position in text `JSON.parse` refused, when the engine says where. */
export function syntaxErrorAt(text: string, error: unknown): TextRange | null {
  const message = error instanceof Error ? error.message : '';
  const match = /position (\d+)/.exec(message);
  if (!match) return null;
  const offset = Math.min(Number(match[1]), text.length);
  return { start: offset, end: Math.min(offset + 1, text.length), line: lineAt(text, offset) };
}
