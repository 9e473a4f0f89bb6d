/**
 * A tiny terminal: enough of VT100/xterm to render what a progress bar and line printers write
 * (text, CR, LF, backspace, cursor moves, erase in line/display, cursor save/restore, line
 * wrapping and scrolling), so a test can read the screen a user would see, scrollback included.
 * Lines the terminal wrapped come back joined, as `tmux capture-pane -J` gives them.
 */
export function renderTerminal(output: string, width = 120, height = 40): string[] {
  const lines: string[][] = [[]];
  /** Rows that continue the row above (the terminal wrapped there). */
  const continued = new Set<number>();
  let row = 0;
  let col = 0;
  let wrap = true;
  let pendingWrap = false;
  let saved = { row: 0, col: 0 };
  const top = (): number => Math.max(0, lines.length - height);
  const line = (r: number): string[] => {
    while (lines.length <= r) lines.push([]);
    return lines[r]!;
  };
  const down = (): void => {
    row++;
    line(row);
  };
  const put = (ch: string): void => {
    if (pendingWrap) {
      pendingWrap = false;
      col = 0;
      down();
      continued.add(row);
    }
    const l = line(row);
    while (l.length < col) l.push(' ');
    l[col] = ch;
    if (col === width - 1) {
      if (wrap) pendingWrap = true;
    } else col++;
  };
  const chars = [...output];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '\x1b') {
      const next = chars[i + 1];
      if (next === '7') {
        saved = { row: row - top(), col };
        i++;
      } else if (next === '8') {
        row = top() + saved.row;
        col = saved.col;
        pendingWrap = false;
        i++;
      } else if (next === '[') {
        let j = i + 2;
        let params = '';
        while (j < chars.length && !/[@A-Za-z]/.test(chars[j]!)) params += chars[j++];
        const cmd = chars[j];
        i = j;
        const nums = params.replace('?', '').split(';').map((p) => (p === '' ? NaN : Number(p)));
        const n = (k: number, d: number): number => (Number.isNaN(nums[k] ?? NaN) ? d : nums[k]!);
        pendingWrap = false;
        if (params.startsWith('?')) {
          if (n(0, 0) === 7) wrap = cmd === 'h';
        } else if (cmd === 'G') col = Math.min(width - 1, n(0, 1) - 1);
        else if (cmd === 'C') col = Math.min(width - 1, col + n(0, 1));
        else if (cmd === 'D') col = Math.max(0, col - n(0, 1));
        else if (cmd === 'A') row = Math.max(top(), row - n(0, 1));
        else if (cmd === 'B') {
          for (let k = 0; k < n(0, 1); k++) down();
        } else if (cmd === 'H' || cmd === 'f') {
          row = top() + n(0, 1) - 1;
          col = n(1, 1) - 1;
          line(row);
        } else if (cmd === 'K') {
          const l = line(row);
          const mode = n(0, 0);
          if (mode === 0) l.length = Math.min(l.length, col);
          else if (mode === 1) for (let k = 0; k <= col && k < l.length; k++) l[k] = ' ';
          else l.length = 0;
        } else if (cmd === 'J') {
          if (n(0, 0) === 0) {
            line(row).length = Math.min(line(row).length, col);
            lines.length = row + 1;
          }
        }
        // m (colours) and anything else: no effect on the text.
      }
    } else if (ch === '\r') {
      col = 0;
      pendingWrap = false;
    } else if (ch === '\n') {
      pendingWrap = false;
      down();
    } else if (ch === '\b') {
      col = Math.max(0, col - 1);
      pendingWrap = false;
    } else if (ch >= ' ') put(ch);
  }
  const text: string[] = [];
  lines.forEach((l, r) => {
    const t = l.join('');
    if (continued.has(r) && text.length > 0) text[text.length - 1] += t;
    else text.push(t);
  });
  for (let k = 0; k < text.length; k++) text[k] = text[k]!.trimEnd();
  while (text.length > 0 && text[text.length - 1] === '') text.pop();
  return text;
}
