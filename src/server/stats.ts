// Server-wide counters behind INFO stats and INFO errorstats (Redis's server.stat_*).

/** Redis keeps this many samples for each instantaneous metric (STATS_METRIC_SAMPLES). */
const METRIC_SAMPLES = 16;

/** A rate sampled every cron tick, as Redis's trackInstantaneousMetric. */
export class InstantaneousMetric {
  private samples = new Float64Array(METRIC_SAMPLES);
  private index = 0;
  private lastTimeMs = 0;
  private lastValue = 0;

  track(value: number, nowMs: number): void {
    if (this.lastTimeMs !== 0) {
      const dt = nowMs - this.lastTimeMs;
      this.samples[this.index] = dt > 0 ? ((value - this.lastValue) * 1000) / dt : 0;
      this.index = (this.index + 1) % METRIC_SAMPLES;
    }
    this.lastTimeMs = nowMs;
    this.lastValue = value;
  }

  /** The mean of the samples, rounded as Redis's getInstantaneousMetric (integer ops). */
  get value(): number {
    let sum = 0;
    for (let i = 0; i < METRIC_SAMPLES; i++) sum += this.samples[i]!;
    return sum / METRIC_SAMPLES;
  }
}

export class ServerStats {
  connectionsReceived = 0;
  commandsProcessed = 0;
  rejectedConnections = 0;
  netInputBytes = 0;
  netOutputBytes = 0;
  /** Bytes read from this server's master, and written to its replicas: counted apart, as Redis does. */
  netReplInputBytes = 0;
  netReplOutputBytes = 0;
  readsProcessed = 0;
  writesProcessed = 0;
  errorReplies = 0;
  unexpectedErrorReplies = 0;
  /** Error replies counted by their code ("ERR", "WRONGTYPE" ...), for INFO errorstats. */
  errorCodes = new Map<string, number>();
  /**
   * Time memory spent over maxmemory with evictions unfinished or impossible (INFO
   * total_eviction_exceeded_time and current_eviction_exceeded_time): the periods ended,
   * and the performance.now() the current one started at, 0 when none runs.
   */
  evictionExceededTotalMs = 0;
  evictionExceededSince = 0;
  opsPerSec = new InstantaneousMetric();
  inputKbps = new InstantaneousMetric();
  outputKbps = new InstantaneousMetric();
  replInputKbps = new InstantaneousMetric();
  replOutputKbps = new InstantaneousMetric();

  /** Count one error reply by its code: the text up to the first space. */
  countError(message: string): void {
    this.errorReplies++;
    const space = message.indexOf(" ");
    const code = space < 0 ? message : message.slice(0, space);
    // Redis stops adding new codes after 128 kinds to protect INFO from floods.
    const seen = this.errorCodes.get(code);
    if (seen !== undefined) this.errorCodes.set(code, seen + 1);
    else if (this.errorCodes.size < 128) this.errorCodes.set(code, 1);
  }

  reset(): void {
    this.connectionsReceived = this.commandsProcessed = this.rejectedConnections = 0;
    this.netInputBytes = this.netOutputBytes = this.netReplInputBytes = this.netReplOutputBytes = this.readsProcessed = this.writesProcessed = 0;
    this.errorReplies = this.unexpectedErrorReplies = 0;
    this.evictionExceededTotalMs = this.evictionExceededSince = 0;
    this.errorCodes.clear();
  }
}

/** Seconds of history INFO's client_recent_max_input/output_buffer cover (CLIENTS_PEAK_MEM_USAGE_SLOTS). */
const PEAK_SLOTS = 8;

/**
 * The largest client query and output buffers seen by the cron in each of the last
 * PEAK_SLOTS seconds, as Redis's clientsCronTrackExpansiveClients keeps them: INFO reports
 * the largest of them, so a client that was large a few seconds ago still shows after it
 * shrank or left.
 */
export class RecentClientPeaks {
  private readonly input = new Float64Array(PEAK_SLOTS);
  private readonly output = new Float64Array(PEAK_SLOTS);
  private slot = 0;

  /** Starts a cron pass: this second's slot, with the oldest one cleared for the next second. */
  beginPass(nowMs: number): void {
    this.slot = Math.floor(nowMs / 1000) % PEAK_SLOTS;
    const next = (this.slot + 1) % PEAK_SLOTS;
    this.input[next] = this.output[next] = 0;
  }

  track(inputBytes: number, outputBytes: number): void {
    if (inputBytes > this.input[this.slot]!) this.input[this.slot] = inputBytes;
    if (outputBytes > this.output[this.slot]!) this.output[this.slot] = outputBytes;
  }

  get maxInput(): number {
    return Math.max(...this.input);
  }

  get maxOutput(): number {
    return Math.max(...this.output);
  }
}
