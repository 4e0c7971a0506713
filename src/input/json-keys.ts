// JSON.parse keeps the last of two equal keys without a word, so `{"prompt":"a","prompt":"b"}` would silently send "b".
// This finds repeated keys of the top-level object in text that JSON.parse has already accepted.

/**
 * Keys that occur more than once in the outermost object of `json` (valid JSON), each once, in order of their
 * second appearance. Keys are compared after unescaping (`"\u0070rompt"` is `"prompt"`).
 */
export function duplicateTopLevelKeys(json: string): string[] {
  const seen = new Set<string>();
  const dups: string[] = [];
  let depth = 0;
  let i = 0;
  while (i < json.length) {
    const c = json[i];
    if (c === '"') {
      const end = stringEnd(json, i);
      if (depth === 1 && nextNonSpace(json, end) === ':') {
        const key = JSON.parse(json.slice(i, end)) as string;
        if (seen.has(key) && !dups.includes(key)) dups.push(key);
        seen.add(key);
      }
      i = end;
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    i++;
  }
  return dups;
}

/** Index just past the closing quote of the string starting at `start`. */
function stringEnd(s: string, start: number): number {
  let i = start + 1;
  while (i < s.length && s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
  return i + 1;
}

function nextNonSpace(s: string, from: number): string | undefined {
  let i = from;
  while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  return s[i];
}
