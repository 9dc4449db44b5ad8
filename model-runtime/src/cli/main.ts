// The model runtime's commands of the `mome` CLI. Python commands (convert, synth, finetune, train-tiny) are
// delegated to `python3 -m mome`; the others run here on ONNX Runtime.
import { PythonNotFoundError, runPythonModule } from '../python';
import { embedCommand } from './embed';
import { runGraphsCommand } from './run-graphs';
import { tokenizeCommand } from './tokenize';

const PYTHON_COMMANDS: Record<string, string> = {
  convert:
    'convert --checkpoint CKPT.pt --out DIR [--vocab vocab.txt] [--image-size N] [--fp16]   official VLMo checkpoint -> model folder',
  synth: 'synth --out DIR --kind coco|flickr30k|nlvr2 --size N --seed S [--split S] [--noise R]   synthetic datasets',
  finetune: 'finetune --config job.json   fine-tune a model version',
  'train-tiny': 'train-tiny [--out DIR]   train the embedded tiny model from scratch',
};

const TS_COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  tokenize: { run: tokenizeCommand, help: 'tokenize --vocab FILE [--max-len N]   stdin lines -> JSON id arrays' },
  'run-graphs': {
    run: runGraphsCommand,
    help: 'run-graphs --model DIR --inputs IN.json --out OUT.json   raw tensors through every graph',
  },
  embed: {
    run: embedCommand,
    help: 'embed --model DIR --images DIR|LIST --out FILE.json [--device auto|cpu|cuda]   image embeddings',
  },
};

export function usage(): string {
  return [
    'Model commands:',
    ...Object.values(TS_COMMANDS).map((c) => `  ${c.help}`),
    ...Object.values(PYTHON_COMMANDS).map((h) => `  ${h}`),
  ].join('\n');
}

export async function runCli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(usage());
    return command ? 0 : 2;
  }
  const ts = TS_COMMANDS[command];
  if (ts) return ts.run(rest);
  if (PYTHON_COMMANDS[command]) {
    try {
      return await runPythonModule([command, ...rest]);
    } catch (e) {
      if (e instanceof PythonNotFoundError) {
        console.error(e.message);
        return 1;
      }
      throw e;
    }
  }
  console.error(`mome: unknown command "${command}"\n${usage()}`);
  return 2;
}
