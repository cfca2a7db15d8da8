// Every command group, in one list for the command table.

import type { CommandDef } from "./table.ts";
import { connectionCommands } from "./connection.ts";
import { stringCommands } from "./string.ts";
import { bitmapCommands } from "./bitmap.ts";
import { keyspaceCommands } from "./keyspace.ts";
import { expireCommands } from "./expire.ts";
import { serverCommands } from "./server.ts";
import { commandCommands } from "./command.ts";
import { debugCommands } from "./debug.ts";
import { configCommands } from "./config.ts";
import { hashCommands } from "./hash.ts";
import { zsetCommands } from "./zset.ts";
import { setCommands } from "./set.ts";
import { listCommands } from "./list.ts";
import { streamCommands } from "./stream.ts";
import { streamGroupCommands } from "./stream-groups.ts";
import { sortCommands } from "./sort.ts";
import { dumpCommands } from "./dump.ts";
import { migrateCommands } from "./migrate.ts";
import { persistenceCommands } from "./persistence.ts";
import { pubsubCommands } from "./pubsub.ts";
import { txCommands } from "./tx.ts";
import { memoryCommands } from "./memory.ts";
import { slowlogCommands } from "./slowlog.ts";
import { replicationCommands } from "./replication.ts";
import { clusterCommands } from "./cluster.ts";
import { aclCommands } from "./acl.ts";
import { geoCommands } from "./geo.ts";
import { hyperloglogCommands } from "./hyperloglog.ts";
import { scriptingCommands } from "./scripting.ts";
import { functionCommands } from "./functions.ts";

export const allCommands: CommandDef[] = [
  ...connectionCommands,
  ...stringCommands,
  ...bitmapCommands,
  ...keyspaceCommands,
  ...expireCommands,
  ...serverCommands,
  ...commandCommands,
  ...debugCommands,
  ...configCommands,
  ...hashCommands,
  ...zsetCommands,
  ...setCommands,
  ...listCommands,
  ...streamCommands,
  ...streamGroupCommands,
  ...sortCommands,
  ...dumpCommands,
  ...migrateCommands,
  ...persistenceCommands,
  ...pubsubCommands,
  ...txCommands,
  ...memoryCommands,
  ...slowlogCommands,
  ...replicationCommands,
  ...clusterCommands,
  ...aclCommands,
  ...geoCommands,
  ...scriptingCommands,
  ...functionCommands,
  ...hyperloglogCommands,
];
