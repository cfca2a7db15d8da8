// The Redis version redbun answers as (INFO redis_version, HELLO, LOLWUT): clients pick
// features by it, so it names the Redis release whose behaviour redbun reproduces.
export const REDIS_VERSION = "7.0.15";
/** redbun's own version, from package.json. */
export const VERSION = "0.1.0";
