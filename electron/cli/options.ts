/**
 * `--name value` pairs of a CLI command; null (after printing the argument and the usage) when an argument is not
 * a flag or a flag has no value. Which flags are known is the command's to check.
 */
export function optionPairs(argv: string[], usage: string): Record<string, string> | null {
  const opts: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) {
      console.error(`unexpected argument ${argv[i]}\n${usage}`);
      return null;
    }
    opts[argv[i].slice(2)] = argv[i + 1];
  }
  return opts;
}
