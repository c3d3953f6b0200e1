// The datadriven file format of etcd raft's interaction tests, and a unified diff for when the
// output changed. A file is blocks separated by blank lines; each block is optional '#'
// comment lines, one command line, a '----' line and the expected output lines.

export interface TranscriptBlock {
  readonly comments: readonly string[]
  readonly command: string
  /** 1-based line numbers in the file, for messages. */
  readonly commandLine: number
  readonly expected: readonly string[]
  readonly expectedLine: number
}

export const SEPARATOR = '----'

export function parseTranscript(text: string, file: string): TranscriptBlock[] {
  const lines = text.split('\n')
  const blocks: TranscriptBlock[] = []
  let i = 0
  while (i < lines.length) {
    while (i < lines.length && lines[i].trim() === '') i++
    if (i >= lines.length) break
    // Comment paragraphs (blank lines between them kept) belong to the next command.
    const comments: string[] = []
    while (i < lines.length && (lines[i].startsWith('#') || lines[i].trim() === '')) {
      const line = lines[i++]
      comments.push(line.trim() === '' ? '' : line)
    }
    while (comments.length > 0 && comments[comments.length - 1] === '') comments.pop()
    if (i >= lines.length) {
      if (comments.length > 0) throw new Error(`${file}:${i}: comments without a command`)
      break
    }
    const command = lines[i]
    const commandLine = i + 1
    i++
    if (lines[i] !== SEPARATOR) throw new Error(`${file}:${i + 1}: expected '${SEPARATOR}' after the command on line ${commandLine}`)
    i++
    const expectedLine = i + 1
    const expected: string[] = []
    while (i < lines.length && lines[i].trim() !== '') expected.push(lines[i++])
    blocks.push({ comments, command, commandLine, expected, expectedLine })
  }
  return blocks
}

export function renderTranscript(blocks: readonly TranscriptBlock[], outputs: readonly (readonly string[])[]): string {
  return (
    blocks
      .map((b, i) => [...b.comments, b.command, SEPARATOR, ...(outputs[i].length > 0 ? outputs[i] : ['ok'])].join('\n'))
      .join('\n\n') + '\n'
  )
}

/** Lines of a command's output as the file holds them: 'ok' stands for none. */
export function asExpected(output: readonly string[]): string[] {
  return output.length > 0 ? [...output] : ['ok']
}

/** 0-based index of the first line where the two differ (the shorter one's length if one is a prefix). */
export function firstDifference(expected: readonly string[], actual: readonly string[]): number {
  let i = 0
  while (i < expected.length && i < actual.length && expected[i] === actual[i]) i++
  return i
}

type Edit = { readonly op: ' ' | '-' | '+'; readonly text: string; readonly a: number; readonly b: number }

/**
 * A unified diff of expected (-) against actual (+), its line numbers those of the file
 * (the expected block starts at firstLine), with `context` lines around each change.
 */
export function unifiedDiff(expected: readonly string[], actual: readonly string[], file: string, firstLine: number, context = 2): string {
  const edits = diffLines(expected, actual)
  const out = [`--- ${file} (expected)`, `+++ ${file} (actual)`]
  let i = 0
  while (i < edits.length) {
    if (edits[i].op === ' ') {
      i++
      continue
    }
    let start = Math.max(0, i - context)
    let end = i
    // Extend the hunk while changes are within 2 x context of each other.
    for (;;) {
      while (end < edits.length && edits[end].op !== ' ') end++
      let next = end
      while (next < edits.length && edits[next].op === ' ' && next - end < 2 * context) next++
      if (next < edits.length && edits[next].op !== ' ') end = next
      else break
    }
    const stop = Math.min(edits.length, end + context)
    const hunk = edits.slice(start, stop)
    const aStart = hunk.find((e) => e.op !== '+')?.a ?? hunk[0].a
    const bStart = hunk.find((e) => e.op !== '-')?.b ?? hunk[0].b
    const aCount = hunk.filter((e) => e.op !== '+').length
    const bCount = hunk.filter((e) => e.op !== '-').length
    out.push(`@@ -${firstLine + aStart},${aCount} +${firstLine + bStart},${bCount} @@`)
    for (const e of hunk) out.push(`${e.op}${e.text}`)
    i = stop
    start = stop
  }
  return out.join('\n')
}

/** The shortest edit script by longest common subsequence (transcript blocks are small). */
function diffLines(a: readonly string[], b: readonly string[]): Edit[] {
  const n = a.length
  const m = b.length
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0))
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1])
  }
  const edits: Edit[] = []
  let i = 0
  let j = 0
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) edits.push({ op: ' ', text: a[i], a: i++, b: j++ })
    else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) edits.push({ op: '-', text: a[i], a: i++, b: j })
    else edits.push({ op: '+', text: b[j], a: i, b: j++ })
  }
  return edits
}
