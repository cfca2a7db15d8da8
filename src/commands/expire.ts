import type { CommandDef } from "./table.ts";
export const expireCommands: CommandDef[] = [];
