// Helpers for driving scripts through real clients (ioredis here) in tests that compare
// what the client saw on redis-server and on redbun: errors kept as values, so that an
// error reply is compared like any other.

import Redis from "ioredis";

/** What a client call gave: its value, or its error's message. */
export async function outcome<T>(p: Promise<T>): Promise<T | { error: string }> {
  try {
    return await p;
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** ioredis pipeline / MULTI results, errors as their messages; null for an aborted MULTI. */
export function pipelineResults(results: [Error | null, unknown][] | null): unknown[] | null {
  if (results === null) return null;
  return results.map(([error, value]) => (error === null ? value : { error: error.message }));
}

/** A connected ioredis client on `port` that fails at once rather than retrying. */
export async function connectIoredis(port: number): Promise<Redis> {
  const client = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0 });
  await client.connect();
  return client;
}
