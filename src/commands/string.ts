import type { CommandDef } from "./table.ts";
export const stringCommands: CommandDef[] = [];
