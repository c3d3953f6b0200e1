// Whole-system scenarios as readable transcripts (etcd raft's interaction tests): each file in
// test/sim/testdata/ is commands, each followed by the event lines it must produce. A change of
// behaviour shows up as a diff naming the file and line. Rewrite the expectations after a
// deliberate change with:  UPDATE=1 npx tap test/sim/transcripts.test.ts
import t from 'tap'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { TranscriptSession } from '../../core/sim/transcript-commands.js'
import { simClientFactory } from '../../core/sim/sim-clients.js'
import { asExpected, firstDifference, parseTranscript, renderTranscript, unifiedDiff } from '../helpers/datadriven.js'

const here = dirname(fileURLToPath(import.meta.url))
const dataDir = join(here, 'testdata')
const update = process.env.UPDATE === '1'
const files = readdirSync(dataDir).filter((f) => f.endsWith('.txt')).sort()

t.ok(files.length >= 4, `${files.length} transcripts`)

for (const name of files) {
  t.test(name, async (t) => {
    const path = join(dataDir, name)
    const shown = relative(process.cwd(), path)
    const blocks = parseTranscript(readFileSync(path, 'utf8'), shown)
    const session = new TranscriptSession(simClientFactory)
    const outputs: string[][] = []
    for (const block of blocks) {
      let output: string[]
      try {
        output = session.run(block.command)
      } catch (err) {
        output = [`error: ${(err as Error).message}`]
      }
      outputs.push(output)
      if (update) continue
      const actual = asExpected(output)
      const same = actual.length === block.expected.length && actual.every((line, i) => line === block.expected[i])
      if (!same) {
        const line = block.expectedLine + firstDifference(block.expected, actual)
        t.comment(unifiedDiff(block.expected, actual, shown, block.expectedLine))
        t.fail(`${shown}:${line}: "${block.command}" (line ${block.commandLine}) produced other events (diff above)`)
        // Later commands build on this one's state; their diffs would only repeat it.
        return
      }
    }
    if (update) {
      writeFileSync(path, renderTranscript(blocks, outputs))
      t.pass(`${shown} rewritten`)
    } else {
      t.pass(`${shown}: ${blocks.length} commands as expected`)
    }
  })
}
