// The `mome` command (`npm run -s mome -- <command>`). App-level commands that need the database live here;
// model commands (convert, synth, run-graphs, …) belong to the model runtime, which knows nothing of SQLite.
import { runCli, usage } from '../../model-runtime/src/index';
import { evalCommand } from './eval';
import { importCommand } from './import';
import { modelsCommand } from './models';
import { reportCommand } from './report';
import { reviewQueueCommand } from './review-queue';
import { searchCommand } from './search';

const APP_COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  import: {
    run: importCommand,
    help: 'import DIR [--kind coco|flickr30k|nlvr2] [--home DIR] [--refresh]   import a dataset folder',
  },
  models: {
    run: modelsCommand,
    help: 'models import PATH [--vocab FILE] [--home DIR] | models list [--all] [--home DIR]   the model registry',
  },
  eval: {
    run: evalCommand,
    help: 'eval retrieval|nlvr2 --model DIR --dataset DIR [--split S] [--json OUT]   evaluate a model',
  },
  report: {
    run: reportCommand,
    help: 'report --run ID [--compare ID] --out FILE.html [--home DIR]   a run (or two compared) as one self-contained HTML file',
  },
  'review-queue': {
    run: reviewQueueCommand,
    help: 'review-queue --model DIR --dataset DIR [--split S|all] [--json OUT]   the review queue the app would show',
  },
  search: {
    run: searchCommand,
    help: 'search --model DIR --dataset DIR [--split S] (--text "…" | --queries FILE) [--k N] [--rerank K] [--json OUT]   rank images for text',
  },
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const app = command ? APP_COMMANDS[command] : undefined;
  if (app) return app.run(rest);
  if (!command || command === 'help' || command === '--help') {
    console.log(
      `usage: npm run -s mome -- <command>\n\nApp commands:\n${Object.values(APP_COMMANDS)
        .map((c) => `  ${c.help}`)
        .join('\n')}\n${usage()}`,
    );
    return command ? 0 : 2;
  }
  return runCli(argv);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(`mome: ${(e as Error).message}`);
    process.exit(1);
  },
);
