/**
 * generated, do not edit: change schemas/ and run `npm run gen:types` (scripts/gen-types.mjs).
 * The raw shapes of services.yaml and alerts.yaml before normalization, and the parameters of the built-in
 * handlers. Constraints the types cannot express (patterns, ranges, conditionals) are enforced by the schemas.
 */

/**
 * upkeep services rules: how to probe each service, when its circuit breaker opens, and which steps heal it.
 */
export interface RawServicesFile {
  /**
   * Rules format version; must be 1.
   */
  version: 1;
  runtime?: RawRuntime;
  defaults?: RawDefaults;
  /**
   * Rule packs to merge into these rules, in order: each contributes recipes, services and alert rules under its namespace (`as`).
   *
   * Items: One pack: where it comes from, its namespace, its parameters and the capabilities granted to it.
   */
  packs?: {
    /**
     * A local folder (./packs/x, relative to the rules directory) or an npm package installed in the project (npm:@scope/name@range).
     */
    use: string;
    /**
     * Namespace of the pack's rules: its service `api` becomes `ns/api`.
     */
    as: string;
    /**
     * The pack's parameters, checked against the params schema in its pack.yaml.
     */
    with?: {
      [k: string]: unknown;
    };
    /**
     * Capabilities (handlers with local side effects, e.g. exec, launchd.load) the pack may use; each one its pack.yaml declares must be granted here.
     */
    trust?: string[];
  }[];
  /**
   * Changes to rules that packs provide, keyed by namespaced id (ns/id): a partial service or alert rule deep-merged over the pack's (maps merge, lists replace); `enabled: false` disables it.
   */
  overrides?: {
    [k: string]: {
      [k: string]: unknown;
    };
  };
  /**
   * Reusable heal step lists with parameters, keyed by recipe id; a service uses one with heal.recipe.
   */
  recipes?: {
    [k: string]: RawRecipe;
  };
  /**
   * The services to watch, keyed by id (lowercase letters, digits, '.', '_' and '-'; ns/id for rules from a pack).
   */
  services: {
    [k: string]: RawService;
  };
}
/**
 * Where upkeep keeps its state and logs, and how a tick runs.
 */
export interface RawRuntime {
  /**
   * Directory of the state files; `~` expanded, relative to the rules directory. Default ~/.upkeep/state.
   */
  stateDir?: string;
  /**
   * The detailed JSON log; `~` expanded, relative to the rules directory. Default <stateDir>/../logs/upkeep.log.
   */
  logFile?: string;
  /**
   * Rotate the log file by size: upkeep.log -> upkeep.log.1 -> ... Default 10MiB, 5 kept files.
   */
  logRotate?: {
    /**
     * Rotate when the log file is larger than this, e.g. 10MiB, 500KB.
     */
    maxSize?: string;
    /**
     * How many rotated files to keep (0 = truncate instead of keeping old lines).
     */
    keep?: number;
  };
  /**
   * KEY=VALUE file (mode 600) with the values `${env:NAME}` reads when the real environment does not set them, e.g. webhook URLs for scheduled runs, which start without your shell's environment. `~` expanded, relative to the rules directory.
   */
  envFile?: string;
  /**
   * Schedule interval (launchd/systemd units, `watch`); default 300s.
   */
  interval?: string;
  /**
   * Heals in flight at once; default 8.
   */
  concurrency?: number;
  /**
   * Probes in flight at once; default 256. Probes mostly wait on the network, so a tick with hung services takes about one probe timeout, not one per wave.
   */
  probeConcurrency?: number;
  /**
   * No tick outlives this; default 2m.
   */
  tickTimeout?: string;
  /**
   * Path of launchctl; default /bin/launchctl.
   */
  launchctl?: string;
  /**
   * Path of systemctl; default systemctl (looked up in PATH).
   */
  systemctl?: string;
  /**
   * Plugin modules that register extra handlers: local paths (./x.js, relative to the rules directory) or npm package names.
   */
  plugins?: string[];
  /**
   * The event history (status changes with their reasons, heals, refusals, breaker changes, alerts, manual commands) that `upkeep report` and `status` read, kept in SQLite.
   */
  history?: {
    /**
     * Record the history; default true.
     */
    enabled?: boolean;
    /**
     * The SQLite file; `~` expanded, relative to the rules directory. Default <stateDir>/history.db.
     */
    file?: string;
    /**
     * Events older than this are deleted when the history is written; default 90d.
     */
    retention?: string;
  };
  /**
   * Dead man's switch: after every real tick (run, watch, heal; never plan or dry runs), ping a monitor such as healthchecks.io, an Uptime Kuma push monitor or cronitor, which alerts when the pings stop. When a service is still down at the end of the tick, `failUrl` is pinged instead. A ping never fails the tick and adds at most `timeout` to it.
   */
  heartbeat?: {
    /**
     * The ping URL; it usually holds the monitor's token, so write it as "${env:HEARTBEAT_URL}" (it is treated as a secret).
     */
    url: string;
    /**
     * Pinged instead of `url` when a service is still down at the end of the tick; default `url` with /fail appended to its path (healthchecks.io style).
     */
    failUrl?: string;
    /**
     * GET (default) pings the URL; POST also sends a small JSON body with the tick summary (`N healed, M failed` and the ids of the services still down).
     */
    method?: "GET" | "POST";
    /**
     * How long a ping may take; default 5s.
     */
    timeout?: string;
  };
  /**
   * Prometheus metrics: each tick (not dry runs) rewrites a text-format file atomically, for node_exporter's textfile collector.
   */
  metrics?: {
    /**
     * The metrics file, ending in .prom (e.g. /var/lib/node_exporter/textfile/upkeep.prom); `~` expanded, relative to the rules directory.
     */
    file: string;
  };
}
/**
 * Settings every service inherits unless it overrides them.
 */
export interface RawDefaults {
  /**
   * Probe defaults.
   */
  probe?: {
    /**
     * How long one probe may take; default 2s.
     */
    timeout?: string;
  };
  breaker?: RawBreaker;
  /**
   * Heal limit defaults.
   */
  heal?: {
    /**
     * Heal only after this many checks in a row failed (like Monit's `for N cycles`); 1, the default, heals at the first failed check. Waiting uses no budget.
     */
    after?: number;
    /**
     * Minimum time between two heals of the same service; default 5m.
     */
    cooldown?: string;
    budget?: RawBudget;
    /**
     * Upper bound for one whole heal (all steps); default 2m.
     */
    timeout?: string;
  };
  /**
   * Flapping detection defaults.
   */
  flapping?: {
    /**
     * Outages (up -> down) that make a service flapping; default 3.
     */
    outages?: number;
    /**
     * The window the outages are counted in; default 1h.
     */
    within?: string;
  };
}
/**
 * Circuit breaker: counts heal outcomes and gives up on a service whose heals do not help (no heals while OPEN), then tries again with growing waits.
 */
export interface RawBreaker {
  /**
   * consecutive: give up after failureThreshold failed heals in a row; rate: give up when the share of failed heals among the last `window` heals reaches failureRate. Default consecutive.
   */
  mode?: "consecutive" | "rate";
  /**
   * Failed heals, without one that held in between, after which upkeep gives up (opens the breaker). A heal that succeeded counts as failed when the service fails a check again before successThreshold healthy checks. Default 5.
   */
  failureThreshold?: number;
  /**
   * Healthy checks in a row after a heal for the heal to hold; in HALF_OPEN, healthy checks in a row that close the breaker. Default 2.
   */
  successThreshold?: number;
  /**
   * How long upkeep waits after giving up before one trial heal (HALF_OPEN); grows with backoff. Default 60s.
   */
  openFor?: string;
  /**
   * Rate mode: number of most recent heal outcomes considered; default 10.
   */
  window?: number;
  /**
   * Rate mode: heal outcomes needed in the window before the rate counts; default 5.
   */
  minSamples?: number;
  /**
   * Rate mode: failed-heal ratio (0 < rate <= 1) that opens the breaker; default 0.5.
   */
  failureRate?: number;
  /**
   * Each time upkeep gives up again without a heal holding in between, the wait before the next trial grows.
   */
  backoff?: {
    /**
     * Each re-open multiplies the wait by this; default 2 (1 keeps it fixed at openFor).
     */
    factor?: number;
    /**
     * Upper bound of the grown wait; default 1d.
     */
    max?: string;
  };
  /**
   * Deprecated, no effect: HALF_OPEN ends by checks (successThreshold healthy checks close it, a failed trial re-opens it), never by time.
   */
  halfOpenTimeout?: string;
}
/**
 * At most `max` heals per `per` window for one service.
 */
export interface RawBudget {
  /**
   * Heals allowed per window; 0 disables healing. Default 3.
   */
  max?: number;
  /**
   * The window length; default 1h.
   */
  per?: string;
}
/**
 * A reusable list of heal steps; `${{ params.NAME }}` in its steps is replaced by the service's heal.with values.
 */
export interface RawRecipe {
  /**
   * What the recipe does.
   */
  description?: string;
  /**
   * Parameters the recipe accepts, keyed by name.
   */
  params?: {
    [k: string]: RawRecipeParam;
  };
  /**
   * The steps, run in order.
   *
   * @minItems 1
   */
  steps: RawStep[];
}
/**
 * A recipe parameter.
 */
export interface RawRecipeParam {
  /**
   * What the parameter means.
   */
  description?: string;
  /**
   * The service must pass this parameter in heal.with; default false.
   */
  required?: boolean;
  /**
   * Value used when the service does not pass the parameter.
   */
  default?: unknown;
}
/**
 * One heal step: a handler (`action`) with its parameters (`with`).
 */
export interface RawStep {
  /**
   * Display name in logs and plans; default the action name.
   */
  name?: string;
  /**
   * The handler to run: wait, verify, exec, http, launchd.unload, launchd.load, launchd.kickstart, launchd.bootout, launchd.bootstrap, systemd.restart, or one a plugin adds.
   */
  action: string;
  /**
   * The action's parameters.
   */
  with?: {
    [k: string]: unknown;
  };
  /**
   * Run the step only when this json-logic condition holds.
   */
  when?:
    | {
        [k: string]: unknown;
      }
    | boolean;
  /**
   * Upper bound for this step.
   */
  timeout?: string;
  /**
   * Keep going with the next step when this one fails; default false.
   */
  continueOnError?: boolean;
}
/**
 * One watched service.
 */
export interface RawService {
  /**
   * Human name used in summaries and alerts; default the id.
   */
  title?: string;
  /**
   * What the service is.
   */
  description?: string;
  /**
   * Set false to skip the service entirely; default true.
   */
  enabled?: boolean;
  /**
   * Free-form tags (alert rules and `--service` selection can use them).
   */
  tags?: string[];
  probe: RawProbe;
  breaker?: RawBreaker;
  heal?: RawHeal;
  /**
   * Flapping detection, merged over defaults.flapping.
   */
  flapping?: {
    /**
     * Outages (up -> down) that make a service flapping; default 3.
     */
    outages?: number;
    /**
     * The window the outages are counted in; default 1h.
     */
    within?: string;
  };
  /**
   * Ids of services this one needs; while one is down this one is reported blocked, not healed.
   *
   * Items: An id: lowercase letters, digits, '.', '_' and '-'; rules from a pack are namespaced ns/id.
   */
  dependsOn?: string[];
}
/**
 * How to check the service: `type` names the probe (tcp, http, exec, launchd, file, systemd, tls, disk, or one a plugin adds); the other keys are its parameters.
 */
export interface RawProbe {
  /**
   * The probe type: tcp, http, exec, launchd, file, systemd, tls, disk, or one a plugin adds.
   */
  type: string;
  /**
   * How long one probe may take; default from defaults.probe.timeout (2s).
   */
  timeout?: string;
  [k: string]: unknown;
}
/**
 * How to heal the service: a recipe with arguments, or inline steps, plus heal limits.
 */
export interface RawHeal {
  /**
   * Heal only after this many checks in a row failed (like Monit's `for N cycles`); 1, the default, heals at the first failed check. Waiting uses no budget.
   */
  after?: number;
  /**
   * Minimum time between two heals of the same service; default 5m.
   */
  cooldown?: string;
  budget?: RawBudget;
  /**
   * Upper bound for one whole heal (all steps); default 2m.
   */
  timeout?: string;
  /**
   * Id of a recipe from `recipes` (use either recipe or steps).
   */
  recipe?: string;
  /**
   * Arguments for the recipe's params (name -> value).
   */
  with?: {
    [k: string]: unknown;
  };
  /**
   * Inline heal steps, run in order (use either recipe or steps).
   *
   * @minItems 1
   */
  steps?: RawStep[];
}

/**
 * upkeep alert rules: channels, levels, rules matching facts about each service, and silences.
 */
export interface RawAlertsFile {
  /**
   * Rules format version; must be 1.
   */
  version: 1;
  /**
   * Where alerts go, keyed by channel id.
   */
  channels?: {
    [k: string]: RawChannel;
  };
  /**
   * Alert levels keyed by id, most severe first (the listed order is the rank).
   */
  levels?: {
    [k: string]: RawLevel;
  };
  /**
   * Alert rules keyed by id.
   */
  rules?: {
    [k: string]: RawAlertRule;
  };
  /**
   * Times when alerts are muted (and optionally healing paused), e.g. maintenance windows.
   */
  silences?: RawSilence[];
}
/**
 * An alert channel: a handler (`type`) with its parameters (`with`).
 */
export interface RawChannel {
  /**
   * The channel type: log, discord, slack, webhook, command, macos, alertmanager, ntfy, email, or one a plugin adds.
   */
  type: string;
  /**
   * The channel's parameters.
   */
  with?: {
    [k: string]: unknown;
  };
  /**
   * What the channel is for.
   */
  description?: string;
}
/**
 * An alert level.
 */
export interface RawLevel {
  /**
   * Consecutive ticks a rule must match before the alert fires; default 1.
   */
  threshold?: number;
  /**
   * Reminder interval while the alert keeps firing; default 1h.
   */
  cooldown?: string;
  /**
   * Consecutive ticks a firing alert's rule must stop matching before it resolves (hysteresis for flapping services); default 1.
   */
  resolveAfter?: number;
  /**
   * Ids of the channels the level's alerts go to.
   *
   * @minItems 1
   *
   * Items: An id: lowercase letters, digits, '.', '_' and '-'.
   */
  channels: string[];
  /**
   * What the level means.
   */
  description?: string;
}
/**
 * An alert rule: when `when` holds for a service, an alert of `level` is raised.
 */
export interface RawAlertRule {
  /**
   * Id of the level (from `levels`).
   */
  level: string;
  /**
   * json-logic over the service facts (status, consecutiveFailures, breaker, heal.outcome...).
   */
  when:
    | {
        [k: string]: unknown;
      }
    | boolean;
  /**
   * Consecutive ticks this rule must match before it fires, instead of its level's threshold (1: at once).
   */
  threshold?: number;
  /**
   * Reminder interval for this rule, instead of its level's cooldown.
   */
  cooldown?: string;
  /**
   * Ids of the services the rule applies to; default all.
   *
   * Items: An id: lowercase letters, digits, '.', '_' and '-'.
   */
  services?: string[];
  /**
   * Message template, e.g. "${{ service.title }} is down: ${{ detail }}"; a default is used when absent.
   */
  message?: string;
  /**
   * Message template for the resolved notice.
   */
  resolvedMessage?: string;
  /**
   * Send a resolved notice when the rule stops matching; default true.
   */
  sendResolved?: boolean;
  /**
   * What the rule watches for.
   */
  description?: string;
}
/**
 * A silence: matching alerts are not sent while it is active.
 */
export interface RawSilence {
  /**
   * Id of the silence (shown in status and logs).
   */
  id: string;
  /**
   * Ids of the silenced services; default all.
   *
   * Items: An id: lowercase letters, digits, '.', '_' and '-'.
   */
  services?: string[];
  /**
   * Ids of the silenced levels; default all.
   *
   * Items: A level id, e.g. CRITICAL.
   */
  levels?: string[];
  /**
   * Start of the silence; default open-ended.
   */
  start?: string;
  /**
   * End of the silence; default open-ended.
   */
  end?: string;
  /**
   * A weekly window (local time), e.g. Sundays 02:00-04:00; the silence is active only inside it.
   */
  weekly?: {
    /**
     * Days of the week.
     *
     * @minItems 1
     */
    days: ("mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun")[];
    /**
     * Start time HH:MM.
     */
    from: string;
    /**
     * End time HH:MM; earlier than `from` means the window crosses midnight.
     */
    to: string;
  };
  /**
   * Also pause healing of the silenced services (maintenance); default false.
   */
  pauseHealing?: boolean;
  /**
   * Why the silence exists.
   */
  comment?: string;
}

/**
 * Parameters of the disk probe: passes when the filesystem holding path has at least minFree space (and minFreeInodes inodes) available.
 */
export interface DiskProbeParams {
  /**
   * Any path on the filesystem to check, e.g. / or ~/data; `~` is expanded.
   */
  path: string;
  /**
   * Least free space: a size (5GB, 500MiB; KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024), bytes as a number, or a percentage of the filesystem (10%).
   */
  minFree: number | string;
  /**
   * Least free inodes: a count or a percentage of the filesystem's inodes (5%). Filesystems without an inode limit (btrfs) always pass.
   */
  minFreeInodes?: number | string;
}

/**
 * Parameters of the exec probe: runs a command (argv, never a shell string) and checks its exit code and output.
 */
export interface ExecProbeParams {
  /**
   * The command as an argv array, e.g. ["curl", "-fsS", "http://127.0.0.1:4000/health"].
   *
   * @minItems 1
   */
  command: string[];
  /**
   * Working directory of the command.
   */
  cwd?: string;
  /**
   * Extra environment variables for the command.
   */
  env?: {
    [k: string]: string;
  };
  /**
   * What a passing run looks like; default: exit code 0.
   */
  expect?: {
    /**
     * Expected exit code; default 0.
     */
    exitCode?: number;
    /**
     * Standard output must contain this text.
     */
    stdoutContains?: string;
    /**
     * Standard output must match this regular expression (JavaScript syntax).
     */
    stdoutMatches?: string;
  };
}

/**
 * Parameters of the file probe: passes when the file exists and was modified within maxAge (a heartbeat file).
 */
export interface FileProbeParams {
  /**
   * Path of the file; `~` is expanded.
   */
  path: string;
  /**
   * The file's modification time must be newer than this, e.g. 10m.
   */
  maxAge: string;
}

/**
 * Parameters of the http probe: passes when the request answers as expected within the timeout.
 */
export interface HttpProbeParams {
  /**
   * The http:// or https:// URL to request.
   */
  url: string;
  /**
   * HTTP method; default GET.
   */
  method?: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";
  /**
   * Request headers (name -> value); values may use ${env:NAME}.
   */
  headers?: {
    [k: string]: string;
  };
  /**
   * Request body.
   */
  body?: string;
  /**
   * Skip TLS certificate verification (self-signed local services); default false.
   */
  insecure?: boolean;
  /**
   * What a passing answer looks like; default: any 2xx or 3xx status.
   */
  expect?: {
    /**
     * Expected status code or list of codes; default any 2xx/3xx.
     */
    status?: number | number[];
    /**
     * The body must contain this text.
     */
    bodyContains?: string;
    /**
     * The body must match this regular expression (JavaScript syntax).
     */
    bodyMatches?: string;
    /**
     * A json-logic condition over the parsed JSON body; truthy = pass.
     */
    json?:
      | {
          [k: string]: unknown;
        }
      | boolean;
    /**
     * The answer must arrive within this duration, e.g. 500ms.
     */
    maxLatency?: string;
  };
}

/**
 * Parameters of the launchd probe: runs `launchctl print <domain>/<label>` and checks whether the job is running.
 */
export interface LaunchdProbeParams {
  /**
   * The LaunchAgent label, e.g. com.example.my-service.
   */
  label: string;
  /**
   * The launchd domain; default "gui/<uid>" of the user running upkeep.
   */
  domain?: string;
  /**
   * What a passing job looks like; default: running.
   */
  expect?: {
    /**
     * Whether the job must be running (true) or stopped (false); default true.
     */
    running?: boolean;
  };
}

/**
 * Parameters of the systemd probe: runs `systemctl [--user] show <unit>` and checks the unit's ActiveState.
 */
export interface SystemdProbeParams {
  /**
   * The systemd unit, e.g. my-service.service (a name without a suffix means .service).
   */
  unit: string;
  /**
   * Ask the user's service manager (systemctl --user); false asks the system manager. Default true.
   */
  user?: boolean;
  /**
   * What a passing unit looks like; default: active. Set either active or state.
   */
  expect?: {
    /**
     * Whether the unit must be active (ActiveState active or reloading, as `systemctl is-active` counts it) or not; default true.
     */
    active?: boolean;
    /**
     * The ActiveState (or one of a list) the unit must be in, e.g. inactive for a unit that must stay stopped.
     */
    state?:
      | (
          | "active"
          | "reloading"
          | "inactive"
          | "failed"
          | "activating"
          | "deactivating"
          | "maintenance"
          | "refreshing"
        )
      | (
          | "active"
          | "reloading"
          | "inactive"
          | "failed"
          | "activating"
          | "deactivating"
          | "maintenance"
          | "refreshing"
        )[];
  };
}

/**
 * Parameters of the tcp probe: passes when a TCP connection to host:port opens within the timeout.
 */
export interface TcpProbeParams {
  /**
   * Host name or IP address to connect to; default "127.0.0.1".
   */
  host?: string;
  /**
   * TCP port (1..65535), or a template such as ${{ params.port }} that resolves to one.
   */
  port: number | string;
}

/**
 * Parameters of the tls probe: one TLS handshake; passes when the certificate is trusted, matches the host name and expires no sooner than minDaysLeft days.
 */
export interface TlsProbeParams {
  /**
   * Host name or IP address to connect to.
   */
  host: string;
  /**
   * TCP port (1..65535), or a template such as ${{ params.port }} that resolves to one; default 443.
   */
  port?: number | string;
  /**
   * The name sent as SNI and checked against the certificate; default host (no SNI when host is an IP address).
   */
  servername?: string;
  /**
   * Fail when the certificate expires in fewer days than this; default 14.
   */
  minDaysLeft?: number | string;
  /**
   * Fail when the certificate does not name servername (or host); default true.
   */
  checkHostname?: boolean;
  /**
   * Accept a certificate no trusted CA signed (self-signed); expiry and host name are still checked. Default false.
   */
  insecure?: boolean;
  /**
   * Path of a PEM file with CA certificates to trust besides Node's bundled ones (a private CA); `~` is expanded.
   */
  ca?: string;
}

/**
 * Parameters of the exec step: runs a command (argv, never a shell string); a non-zero exit fails the step. With detach: true it starts a long-running process and leaves it running.
 */
export interface ExecStepParams {
  /**
   * The command as an argv array, e.g. ["brew", "services", "restart", "redis"].
   *
   * @minItems 1
   */
  command: string[];
  /**
   * Working directory of the command.
   */
  cwd?: string;
  /**
   * Extra environment variables for the command.
   */
  env?: {
    [k: string]: string;
  };
  /**
   * Bytes of captured output kept for the log; default 4096.
   */
  outputLimit?: number;
  /**
   * Start a long-running process (a server, a daemon) and leave it running after the tick: stdin is /dev/null, stdout and stderr go to `log` (or /dev/null), it gets its own session, and the step passes once it has started (end the heal with verify). Default false: wait for the command to exit.
   */
  detach?: boolean;
  /**
   * With detach: the file that gets the process's stdout and stderr (appended, created with mode 0600; ~ is expanded).
   */
  log?: string;
}

/**
 * Parameters of the http step: sends a request (e.g. an admin restart endpoint).
 */
export interface HttpStepParams {
  /**
   * The http:// or https:// URL to request.
   */
  url: string;
  /**
   * HTTP method; default POST.
   */
  method?: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";
  /**
   * Request headers (name -> value); values may use ${env:NAME}.
   */
  headers?: {
    [k: string]: string;
  };
  /**
   * Request body: a string, or an object sent as JSON.
   */
  body?:
    | string
    | {
        [k: string]: unknown;
      };
  /**
   * What a successful answer looks like; default: any 2xx status.
   */
  expect?: {
    /**
     * Expected status code or list of codes; default any 2xx.
     */
    status?: number | number[];
  };
}

/**
 * Parameters of the launchd.bootout step: runs `launchctl bootout <domain>/<label>` (falls back to `launchctl unload <plist>`).
 */
export interface LaunchdBootoutStepParams {
  /**
   * The LaunchAgent label, e.g. com.example.my-service.
   */
  label: string;
  /**
   * The launchd domain; default "gui/<uid>" of the user running upkeep.
   */
  domain?: string;
  /**
   * Path of the LaunchAgent plist; default "~/Library/LaunchAgents/<label>.plist" (`~` is expanded).
   */
  plist?: string;
}

/**
 * Parameters of the launchd.bootstrap step: runs `launchctl bootstrap <domain> <plist>` (falls back to `launchctl load <plist>`).
 */
export interface LaunchdBootstrapStepParams {
  /**
   * The LaunchAgent label, e.g. com.example.my-service.
   */
  label: string;
  /**
   * The launchd domain; default "gui/<uid>" of the user running upkeep.
   */
  domain?: string;
  /**
   * Path of the LaunchAgent plist; default "~/Library/LaunchAgents/<label>.plist" (`~` is expanded).
   */
  plist?: string;
}

/**
 * Parameters of the launchd.kickstart step: runs `launchctl kickstart [-k] <domain>/<label>`.
 */
export interface LaunchdKickstartStepParams {
  /**
   * The LaunchAgent label, e.g. com.example.my-service.
   */
  label: string;
  /**
   * The launchd domain; default "gui/<uid>" of the user running upkeep.
   */
  domain?: string;
  /**
   * Kill the running instance first (-k); default true.
   */
  kill?: boolean;
}

/**
 * Parameters of the launchd.load step: runs `launchctl load <plist>`.
 */
export interface LaunchdLoadStepParams {
  /**
   * The LaunchAgent label, e.g. com.example.my-service.
   */
  label: string;
  /**
   * Path of the LaunchAgent plist; default "~/Library/LaunchAgents/<label>.plist" (`~` is expanded).
   */
  plist?: string;
}

/**
 * Parameters of the launchd.unload step: runs `launchctl unload <plist>`.
 */
export interface LaunchdUnloadStepParams {
  /**
   * The LaunchAgent label, e.g. com.example.my-service.
   */
  label: string;
  /**
   * Path of the LaunchAgent plist; default "~/Library/LaunchAgents/<label>.plist" (`~` is expanded).
   */
  plist?: string;
}

/**
 * Parameters of the systemd.restart step: runs `systemctl [--user] restart <unit>`.
 */
export interface SystemdRestartStepParams {
  /**
   * The systemd unit, e.g. my-service.service.
   */
  unit: string;
  /**
   * Use the user's service manager (--user); default true.
   */
  user?: boolean;
}

/**
 * Parameters of the verify step: re-runs the service's probe until it passes or the step timeout (default 30s) is reached.
 */
export interface VerifyStepParams {
  /**
   * Delay before the first retry; doubles after each retry. Default 500ms.
   */
  interval?: string;
  /**
   * Upper bound of the retry delay. Default 5s.
   */
  maxInterval?: string;
  /**
   * Consecutive passing probes needed; default 1.
   */
  successes?: number;
}

/**
 * Parameters of the wait step: pauses the heal.
 */
export interface WaitStepParams {
  /**
   * How long to wait, e.g. 2s.
   */
  for: string;
}

/**
 * Parameters of the alertmanager channel: posts alerts to Prometheus Alertmanager's API (POST /api/v2/alerts), refreshed at every tick while they fire.
 */
export interface AlertmanagerChannelParams {
  /**
   * Alertmanager base URLs (e.g. http://127.0.0.1:9093, or one with a route prefix). Every URL gets every alert (an HA cluster wants all its members told); the send succeeds if one accepts.
   *
   * @minItems 1
   */
  urls: string[];
  /**
   * The `instance` label: which upkeep sent the alert; default the host name.
   */
  instance?: string;
  /**
   * Extra labels on every alert (name -> value), e.g. { env: prod }; they cannot replace alertname, service, severity or instance.
   */
  labels?: {
    [k: string]: string;
  };
  /**
   * A link back to where the alert came from (e.g. the host's `upkeep serve` page).
   */
  generatorURL?: string;
  /**
   * How far ahead `endsAt` is set while an alert fires: Alertmanager resolves it by itself if upkeep stops refreshing it for that long. Default 3 x runtime.interval, at least 5m.
   */
  resolveTimeout?: string;
  /**
   * Basic auth user name.
   */
  username?: string;
  /**
   * Basic auth password, usually ${env:NAME}.
   */
  password?: string;
  /**
   * Bearer token (Authorization: Bearer ...), usually ${env:NAME}.
   */
  bearerToken?: string;
  /**
   * Extra request headers (name -> value), e.g. a tenant header; values may use ${env:NAME}.
   */
  headers?: {
    [k: string]: string;
  };
  /**
   * Skip TLS certificate verification (self-signed test setups only).
   */
  insecure?: boolean;
  /**
   * PEM file of the CA that signed Alertmanager's certificate (trusted instead of the system roots); ~ expands to the home directory.
   */
  ca?: string;
  /**
   * How long one send may take before it counts as a failure (and is retried later), e.g. 5s; default 10s.
   */
  timeout?: string;
}

/**
 * Parameters of the command channel: runs a command (argv) with the alert JSON on its standard input.
 */
export interface CommandChannelParams {
  /**
   * The command as an argv array, e.g. ["/usr/local/bin/notify"].
   *
   * @minItems 1
   */
  command: string[];
  /**
   * How long one send may take before it counts as a failure (and is retried later), e.g. 5s; default 10s.
   */
  timeout?: string;
}

/**
 * Parameters of the discord channel: posts alerts to a Discord webhook.
 */
export interface DiscordChannelParams {
  /**
   * The webhook URL, usually "${env:DISCORD_WEBHOOK_URL}" (a secret: keep it in the environment).
   */
  url: string;
  /**
   * Name shown as the message author.
   */
  username?: string;
  /**
   * Avatar image URL shown with the message.
   */
  avatarUrl?: string;
  /**
   * How long one send may take before it counts as a failure (and is retried later), e.g. 5s; default 10s.
   */
  timeout?: string;
}

/**
 * Parameters of the email channel: sends the grouped alerts as one mail over SMTP, with a plain-text and an HTML body.
 */
export interface EmailChannelParams {
  /**
   * The SMTP server, e.g. smtp.example.com.
   */
  host: string;
  /**
   * The SMTP port; default 587 (submission with STARTTLS), or 465 when secure is true.
   */
  port?: number | string;
  /**
   * TLS from the first byte (implicit TLS, usually port 465). Default false: the session starts in clear and upgrades with STARTTLS.
   */
  secure?: boolean;
  /**
   * When secure is false: refuse to send unless the server offers STARTTLS, so the password and the mail never travel in clear. Default true; set false only for a relay on localhost.
   */
  requireTLS?: boolean;
  /**
   * Accept a certificate that does not verify (self-signed, wrong name). Default false.
   */
  insecure?: boolean;
  /**
   * User for SMTP AUTH, with password.
   */
  username?: string;
  /**
   * Password for SMTP AUTH, usually "${env:SMTP_PASSWORD}".
   */
  password?: string;
  /**
   * The sender, e.g. "upkeep <upkeep@example.com>".
   */
  from: string;
  /**
   * One recipient or a list of them.
   */
  to: string | string[];
  /**
   * The subject; {headline} (e.g. "CRITICAL: web is down" or "3 alerts: 2 CRITICAL firing, 1 resolved"), {count} and {host} are replaced. Default "[upkeep] {headline}".
   */
  subject?: string;
  /**
   * How long connecting, each server reply and the whole send may take before it counts as a failure (and is retried later), e.g. 5s; default 10s.
   */
  timeout?: string;
}

/**
 * Parameters of the log channel: writes alerts to the upkeep log.
 */
export interface LogChannelParams {
  /**
   * The pino level used; default derived from the alert level.
   */
  level?: "fatal" | "error" | "warn" | "info";
}

/**
 * Parameters of the macos channel: shows a macOS notification.
 */
export interface MacosChannelParams {
  /**
   * Notification title; default the alert level and service.
   */
  title?: string;
  /**
   * Notification sound name, e.g. Basso.
   */
  sound?: string;
}

/**
 * Parameters of the ntfy channel: publishes alerts to an ntfy topic (ntfy.sh or self-hosted).
 */
export interface NtfyChannelParams {
  /**
   * The topic URL, server plus topic, e.g. https://ntfy.sh/mytopic; on a public server the topic is a password, so usually "${env:NTFY_URL}".
   */
  url: string;
  /**
   * An access token (tk_...), sent as `Authorization: Bearer`; usually "${env:NTFY_TOKEN}". Not with username/password.
   */
  token?: string;
  /**
   * User for Basic auth, with password.
   */
  username?: string;
  /**
   * Password for Basic auth, usually "${env:NTFY_PASSWORD}".
   */
  password?: string;
  /**
   * Priority per alert level (level name -> 1-5 or min, low, default, high, urgent, max). Default: CRITICAL-like levels 5 (urgent), WARNING-like 4 (high), others 3 (default); resolved notices 3.
   */
  priority?: {
    [k: string]: number | "min" | "low" | "default" | "high" | "urgent" | "max";
  };
  /**
   * Tags (emoji short codes or words) added to every message, after the tone's own (rotating_light, warning, information_source, white_check_mark).
   */
  tags?: string[];
  /**
   * How long one send may take before it counts as a failure (and is retried later), e.g. 5s; default 10s.
   */
  timeout?: string;
}

/**
 * Parameters of the slack channel: posts alerts to a Slack incoming webhook.
 */
export interface SlackChannelParams {
  /**
   * The incoming webhook URL, usually "${env:SLACK_WEBHOOK_URL}".
   */
  url: string;
  /**
   * Channel override, e.g. #ops.
   */
  channel?: string;
  /**
   * How long one send may take before it counts as a failure (and is retried later), e.g. 5s; default 10s.
   */
  timeout?: string;
}

/**
 * Parameters of the webhook channel: sends the alert JSON to any HTTP endpoint.
 */
export interface WebhookChannelParams {
  /**
   * The endpoint URL.
   */
  url: string;
  /**
   * Request headers (name -> value); values may use ${env:NAME}.
   */
  headers?: {
    [k: string]: string;
  };
  /**
   * HMAC-SHA256 key, usually ${env:NAME}: the body is signed in the header `X-Upkeep-Signature: sha256=<hex>`.
   */
  secret?: string;
  /**
   * HTTP method; default POST.
   */
  method?: "POST" | "PUT";
  /**
   * How long one send may take before it counts as a failure (and is retried later), e.g. 5s; default 10s.
   */
  timeout?: string;
}

/** Parameters of each built-in probe handler, by handler name. */
export interface BuiltinProbeParams {
  disk: DiskProbeParams;
  exec: ExecProbeParams;
  file: FileProbeParams;
  http: HttpProbeParams;
  launchd: LaunchdProbeParams;
  systemd: SystemdProbeParams;
  tcp: TcpProbeParams;
  tls: TlsProbeParams;
}

/** Parameters of each built-in step handler, by handler name. */
export interface BuiltinStepParams {
  exec: ExecStepParams;
  http: HttpStepParams;
  "launchd.bootout": LaunchdBootoutStepParams;
  "launchd.bootstrap": LaunchdBootstrapStepParams;
  "launchd.kickstart": LaunchdKickstartStepParams;
  "launchd.load": LaunchdLoadStepParams;
  "launchd.unload": LaunchdUnloadStepParams;
  "systemd.restart": SystemdRestartStepParams;
  verify: VerifyStepParams;
  wait: WaitStepParams;
}

/** Parameters of each built-in channel handler, by handler name. */
export interface BuiltinChannelParams {
  alertmanager: AlertmanagerChannelParams;
  command: CommandChannelParams;
  discord: DiscordChannelParams;
  email: EmailChannelParams;
  log: LogChannelParams;
  macos: MacosChannelParams;
  ntfy: NtfyChannelParams;
  slack: SlackChannelParams;
  webhook: WebhookChannelParams;
}
