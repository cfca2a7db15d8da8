import type { CommandDef } from "./table.ts";
export const commandCommands: CommandDef[] = [];
