import type { CommandDef } from "./table.ts";
export const serverCommands: CommandDef[] = [];
