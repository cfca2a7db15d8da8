// Why a server could not start, for the binary to log before it exits and for an embedder
// to catch (see boot.ts).

/**
 * A start-up step failed. `lines` are the warnings Redis logs before it gives up, still to
 * be logged (empty when the step logged them itself); the message is the last of them.
 */
export class StartupError extends Error {
  constructor(
    readonly lines: readonly string[],
    message = lines[lines.length - 1] ?? "Start-up failed",
  ) {
    super(message);
    this.name = "StartupError";
  }
}
