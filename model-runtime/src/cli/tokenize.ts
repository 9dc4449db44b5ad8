// `mome tokenize --vocab FILE [--max-len N]`: UTF-8 lines on stdin -> one JSON array of ids per line
// ([CLS] … [SEP], truncated to N, default 40, no padding).
import readline from 'node:readline';
import { WordPieceTokenizer } from '../tokenizer';
import { parseFlags } from './args';

const USAGE = 'usage: mome tokenize --vocab FILE [--max-len N]';

export async function tokenizeCommand(argv: string[]): Promise<number> {
  const f = parseFlags(argv, ['vocab', 'max-len'], USAGE);
  if (!f.vocab) throw new Error(USAGE);
  const maxLen = f['max-len'] ? Number(f['max-len']) : 40;
  if (!Number.isInteger(maxLen) || maxLen < 2) throw new Error(`--max-len must be an integer >= 2\n${USAGE}`);
  const tok = WordPieceTokenizer.fromFile(f.vocab, { maxLen });
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) process.stdout.write(`${JSON.stringify(tok.encode(line, { maxLen }).inputIds)}\n`);
  return 0;
}
