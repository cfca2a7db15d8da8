import type { Config } from "../config/config.ts";
export class Logger {
  constructor(readonly config: Config) {}
  startupBanner(v: string) { this.notice("redbun " + v); }
  notice(m: string) { console.log(m); }
  warning(m: string) { console.log(m); }
  verbose(m: string) {}
  debug(m: string) {}
}
