import type { CommandDef } from "./table.ts";
export const keyspaceCommands: CommandDef[] = [];
