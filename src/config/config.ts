// TEMPORARY: the server's view of its configuration until the parameter table lands.
export class Config {
  port = 6379;
  bind = ["*", "-::*"];
  databases = 16;
  requirepass = "";
  maxclients = 10000;
  clientQueryBufferLimit = 1024 * 1024 * 1024;
  protoMaxBulkLen = 512 * 1024 * 1024;
  hz = 10;
  timeout = 0;
  activeExpireEffort = 1;
  loglevel = "notice";
}
