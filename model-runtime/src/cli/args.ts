/** --name value pairs; throws with the usage when a value is missing or a flag is unknown. */
export function parseFlags(argv: string[], known: string[], usage: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.replace(/^--/, '');
    if (!a.startsWith('--') || !known.includes(name)) throw new Error(`unexpected argument ${a}\n${usage}`);
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value\n${usage}`);
    out[name] = v;
  }
  return out;
}
