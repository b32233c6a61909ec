/**
 * The files `upkeep init` writes: a newcomer's first rules folder. Pure: text in, text out, so the tests
 * can check every variant without touching the disk. The comments inside the YAML are the newcomer's
 * guide, so they say what each block does and what to replace.
 */
import path from "node:path";
import { DEFAULTS } from "../config/normalize.js";
import { formatDuration } from "../duration.js";

export const PLATFORMS = ["linux", "macos"] as const;
export type Platform = (typeof PLATFORMS)[number];

export interface ScaffoldOptions {
  readonly platform: Platform;
  /** Port of the example service's probe (and, on Linux, of the server its heal starts). */
  readonly port: number;
  /** Absolute rules folder: on Linux the example server runs there, because it serves the folder it starts in. */
  readonly rulesDir: string;
  /** The `$schema` target of each file, as seen from its folder (src/config/editor-schema.ts). */
  readonly schemas: Readonly<Record<SchemaName, string>>;
}

export type SchemaName = "services" | "alerts" | "test";

export interface ScaffoldFile {
  /** Relative to the rules folder, with `/`. */
  readonly path: string;
  readonly text: string;
  /** One line for the summary `init` prints. */
  readonly about: string;
}

export const EXAMPLE_SERVICE = "web";
export const MACOS_LABEL = "com.example.web";

/** The files in the order they are written and listed. */
export function scaffold(options: ScaffoldOptions): ScaffoldFile[] {
  const url = `http://127.0.0.1:${options.port}/`;
  const heal =
    options.platform === "linux"
      ? `starts python3 -m http.server ${options.port} when it is down`
      : `restarts the LaunchAgent ${MACOS_LABEL} when it is down`;
  return [
    { path: "services.yaml", text: servicesYaml(options), about: `service "web": probes ${url}, ${heal}` },
    {
      path: "alerts.yaml",
      text: alertsYaml(options),
      about: "alerts to the log channel: service down, healing gave up",
    },
    {
      path: "tests/example.test.yaml",
      text: testYaml(options),
      about: "rule tests for web (simulated clock)",
    },
  ];
}

/**
 * The runtime paths upkeep uses when the rules name none, written as normalize computes them: the log
 * sits next to the state folder (see normalizeRuntime in src/config/normalize.ts).
 */
export function runtimeDefaults(): { stateDir: string; logFile: string; interval: string } {
  const stateDir = DEFAULTS.runtime.stateDir;
  return {
    stateDir,
    logFile: path.posix.join(path.posix.dirname(stateDir), "logs", "upkeep.log"),
    interval: formatDuration(DEFAULTS.runtime.intervalMs),
  };
}

/** The example server's output goes next to upkeep's own log. */
function exampleLog(): string {
  return path.posix.join(path.posix.dirname(runtimeDefaults().logFile), `${EXAMPLE_SERVICE}.log`);
}

function modeline(options: ScaffoldOptions, name: SchemaName): string {
  return `# yaml-language-server: $schema=${options.schemas[name]}`;
}

function runtimeBlock(platform: Platform): string {
  const d = runtimeDefaults();
  // At least one space before each `#`, or YAML reads the comment as part of the value once uncommented.
  const row = (setting: string, why: string): string => `${`#   ${setting}`.padEnd(39)} # ${why}`;
  return [
    `# Where upkeep keeps its files and how often a scheduled tick runs. Commented out, these are the`,
    `# defaults on ${platform}; uncomment a line to change it.`,
    `# runtime:`,
    row(`stateDir: ${d.stateDir}`, "breakers, heal budgets, alert state, history"),
    row(`logFile: ${d.logFile}`, "JSON lines; the log channel writes here too"),
    row(`interval: ${d.interval}`, "how often launchd/systemd (or `upkeep watch`) runs a tick"),
    platform === "linux"
      ? row(`systemctl: ${DEFAULTS.runtime.systemctl}`, "the systemctl `systemd.restart` steps run")
      : row(`launchctl: ${DEFAULTS.runtime.launchctl}`, "the launchctl the launchd.* steps run"),
  ].join("\n");
}

function servicesYaml(options: ScaffoldOptions): string {
  const head = [
    modeline(options, "services"),
    `# Your services: how upkeep checks each one (probe) and what it does when the check fails (heal).`,
    `# \`upkeep validate\` checks this file; \`upkeep explain ${EXAMPLE_SERVICE}\` shows the merged rule of one service.`,
    "version: 1",
    "",
    runtimeBlock(options.platform),
    "",
    `# Limits every service shares unless it sets its own. These are the built-in values, written out:`,
    `# at most one heal every 5 minutes and 3 per hour; after 5 heals that did not bring a service back`,
    `# upkeep gives up on it (its breaker opens) and tries again later, waiting longer each time.`,
    "defaults:",
    "  probe: { timeout: 2s }",
    "  heal: { cooldown: 5m, budget: { max: 3, per: 1h } }",
    "  breaker: { failureThreshold: 5, successThreshold: 2, openFor: 60s }",
    "",
  ];
  const body = options.platform === "linux" ? linuxService(options) : macosService(options);
  return `${[...head, ...body].join("\n")}\n`;
}

function probeLines(port: number): string[] {
  return [
    `    # Up means: GET http://127.0.0.1:${port}/ answers 200 within the probe timeout.`,
    `    probe: { type: http, url: "http://127.0.0.1:${port}/", expect: { status: 200 } }`,
  ];
}

function linuxService(options: ScaffoldOptions): string[] {
  const { port } = options;
  return [
    "services:",
    `  ${EXAMPLE_SERVICE}:`,
    "    title: Example web server",
    ...probeLines(port),
    "    heal:",
    "      steps:",
    "        # Start the server and leave it running after the tick: detach gives it a session of its own,",
    "        # stdin from /dev/null and its output appended to the log file. Replace the command (an argv",
    "        # list, never a shell string) with your own daemon's. http.server serves the folder it starts",
    "        # in: cwd keeps it to this rules folder, which holds no secret.",
    "        - action: exec",
    "          with:",
    `            command: [python3, -m, http.server, "${port}", --bind, 127.0.0.1]`,
    `            cwd: ${JSON.stringify(options.rulesDir)}`,
    "            detach: true",
    `            log: ${exampleLog()}`,
    "        # Give it a moment to open its port.",
    "        - action: wait",
    "          with: { for: 1s }",
    "        # Probe again (with backoff, up to 30 s) until it answers: only then does the heal count as done.",
    "        - action: verify",
    "",
    "# A systemd user unit instead? Heal it with",
    "#   - action: systemd.restart",
    `#     with: { unit: ${EXAMPLE_SERVICE}.service }`,
    "#   - action: verify",
  ];
}

function macosService(options: ScaffoldOptions): string[] {
  return [
    "# A recipe is a list of heal steps with parameters, shared by the services that name it.",
    "recipes:",
    "  launchagent-restart:",
    "    description: Stop the LaunchAgent, load it again from its plist, verify the probe answers.",
    "    params:",
    "      label:",
    "        required: true",
    "        description: The LaunchAgent label; its plist is ~/Library/LaunchAgents/LABEL.plist.",
    "    steps:",
    "      # launchctl bootout gui/<uid>/LABEL; a job that is not loaded is fine.",
    "      - action: launchd.bootout",
    '        with: { label: "${{ params.label }}" }',
    "      - action: wait",
    "        with: { for: 2s }",
    "      # launchctl bootstrap gui/<uid> ~/Library/LaunchAgents/LABEL.plist: loads it, and starts it when",
    "      # the plist says RunAtLoad or KeepAlive.",
    "      - action: launchd.bootstrap",
    '        with: { label: "${{ params.label }}" }',
    "      # Probe again (with backoff, up to 30 s) until it answers: only then does the heal count as done.",
    "      - action: verify",
    "",
    "services:",
    `  ${EXAMPLE_SERVICE}:`,
    "    title: Example web server",
    ...probeLines(options.port),
    `    # Replace ${MACOS_LABEL} with the label of the LaunchAgent that runs your server.`,
    `    heal: { recipe: launchagent-restart, with: { label: ${MACOS_LABEL} } }`,
    "    # A plain process with no LaunchAgent? Start it directly and leave it running:",
    "    # heal:",
    "    #   steps:",
    "    #     - action: exec",
    "    #       with:",
    `    #         command: [python3, -m, http.server, "${options.port}", --bind, 127.0.0.1]`,
    `    #         cwd: ${JSON.stringify(options.rulesDir)}`,
    "    #         detach: true",
    `    #         log: ${exampleLog()}`,
    "    #     - action: wait",
    "    #       with: { for: 1s }",
    "    #     - action: verify",
  ];
}

function alertsYaml(options: ScaffoldOptions): string {
  const { logFile } = runtimeDefaults();
  return `${modeline(options, "alerts")}
# Who hears about what. A rule matches facts about a service after each tick (json-logic); its level
# says after how many ticks in a row it fires, how often it reminds, and which channels get it.
# \`upkeep alert test log\` sends a sample through a channel.
version: 1

# Where alerts go. log writes them into upkeep's log (${logFile}, or runtime.logFile).
# Add discord, slack, webhook, command or macos channels here; secrets come from the environment,
# e.g. discord: { type: discord, with: { url: "\${env:DISCORD_WEBHOOK_URL}" } }
channels:
  log: { type: log }

# threshold: ticks in a row the rule must match before it fires; cooldown: how often it reminds.
levels:
  CRITICAL: { threshold: 3, cooldown: 1h, channels: [log] }

rules:
  # Down at the end of 3 ticks in a row, healing included. A resolved notice follows when it is up.
  service-down:
    level: CRITICAL
    when: { "==": [{ var: status }, "down"] }
    message: "\${{ service.title }} is down (\${{ consecutiveFailures }} failed checks): \${{ detail }}"
  # upkeep stopped healing a service because its heals did not help: told at once, reminded daily.
  healing-gave-up:
    level: CRITICAL
    threshold: 1
    cooldown: 24h
    when: { var: gaveUp }
    message: >-
      upkeep gave up on \${{ service.title }} after \${{ heal.failedInRow }} failed heals; next try at
      \${{ heal.nextAllowedAt }}, or run \`upkeep breaker reset \${{ service.id }}\` once it is fixed
`;
}

function testYaml(options: ScaffoldOptions): string {
  const steps =
    options.platform === "linux"
      ? "[exec, wait 1s, verify]"
      : "[launchd.bootout, wait 2s, launchd.bootstrap, verify]";
  return `${modeline(options, "test")}
# Rule tests: each test gives a service a timeline of probe results and says what upkeep must decide
# at given ticks. They run upkeep's decision core on a simulated clock: nothing is started, probed or
# sent. \`upkeep test --rules DIR\` runs every *.test.yaml in DIR/tests against the rules in DIR.
version: 1
interval: 5m               # simulated time between ticks (the default runtime.interval)
tests:
  web-is-healed:
    description: web is down at two ticks in a row; the first heal does not bring it back, the second does
    services:
      web: "down, down, up"  # what the first probe of each tick sees; a heal's verify sees the next entry
    expect:
      - at: 1
        heals: { web: { attempted: true, outcome: failed, steps: ${steps} } }
      - at: 2                # 5 minutes later the cooldown allows the next heal
        heals: { web: healed }
        status: { web: up }
      - at: 1..3
        alerts: []           # service-down needs 3 failed ticks in a row

  web-stays-down:
    description: heals at 0, 5 and 10 min fail, the budget (3 per hour) waits until 60 min, the 5th failed heal gives up
    services:
      web: "down x16"
    expect:
      - at: 10m
        alerts: [{ rule: service-down, service: web, kind: firing, channels: [log] }]
      - at: 15m
        heals: { web: { refused: budget, nextAllowed: 60m } }
      - at: 65m
        breaker: { web: OPEN }
        alerts: [{ rule: healing-gave-up, kind: firing }]
`;
}
