import { Config } from "./config.ts";
export function loadStartupConfig(argv: string[]): Config {
  const c = new Config();
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--port") c.port = Number(argv[++i]);
    else if (argv[i] === "--bind") c.bind = [argv[++i]!];
  }
  return c;
}
