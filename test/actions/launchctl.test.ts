import { describe, expect, it } from "vitest";
import {
  displayCommand,
  isNotLoaded,
  isUnknownSubcommand,
  launchdDomain,
  parseLaunchctlPrint,
  plistPath,
  resolveJob,
} from "../../src/actions/launchctl.js";
import type { ProcessResult } from "../../src/runtime/process.js";

// Trimmed from a real `launchctl print gui/501/<label>` on macOS 14: nested blocks have their own `state`.
const RUNNING = `gui/501/com.02luka.boss-api = {
	active count = 1
	path = /Users/x/Library/LaunchAgents/com.02luka.boss-api.plist
	type = LaunchAgent
	state = running

	program = /usr/local/bin/node
	arguments = {
		/usr/local/bin/node
		server.js
	}

	default environment = {
		PATH => /usr/bin:/bin:/usr/sbin:/sbin
	}

	domain = gui/501 [100005]
	runs = 3
	pid = 4242
	immediate reason = speculative
	forks = 0
	execs = 1
	last exit code = 0

	endpoints = {
		"com.02luka.boss-api.socket" = {
			port = 0x1234
			active = 0
			managed = 1
			reset = 0
			hide = 0
			watching = 1
		}
	}

	event triggers = {
		state = 1
	}
}`;

const STOPPED = `gui/501/com.x = {
	active count = 0
	path = /Users/x/Library/LaunchAgents/com.x.plist
	state = not running
	spawn type = daemon (3)
	last exit code = 78: EX_CONFIG
	properties = {
		state = running
	}
}`;

function result(exitCode: number | null, stderr = "", stdout = ""): ProcessResult {
  return {
    exitCode,
    signal: null,
    stdout,
    stderr,
    timedOut: false,
    aborted: false,
    durationMs: 1,
    truncated: false,
  };
}

describe("launchctl helpers", () => {
  it("read the top-level state and pid of `launchctl print`", () => {
    expect(parseLaunchctlPrint(RUNNING)).toEqual({
      state: "running",
      pid: 4242,
      lastExitCode: "0",
      running: true,
    });
    expect(parseLaunchctlPrint(STOPPED)).toEqual({
      state: "not running",
      lastExitCode: "78: EX_CONFIG",
      running: false,
    });
    expect(parseLaunchctlPrint("")).toEqual({ running: false });
  });

  it("default the domain to gui/<uid> and the plist to ~/Library/LaunchAgents/<label>.plist", () => {
    expect(launchdDomain(undefined, { uid: 501 })).toBe("gui/501");
    expect(launchdDomain("system", { uid: 501 })).toBe("system");
    expect(plistPath("com.a", undefined, "/Users/x")).toBe("/Users/x/Library/LaunchAgents/com.a.plist");
    expect(plistPath("com.a", "~/p/a.plist", "/Users/x")).toBe("/Users/x/p/a.plist");
    expect(plistPath("com.a", "/etc/a.plist", "/Users/x")).toBe("/etc/a.plist");
    expect(resolveJob({ label: "com.a", domain: "user/7" }, { uid: 501 }).target).toBe("user/7/com.a");
  });

  it("show the bare tool name only for the default path", () => {
    expect(displayCommand("launchctl", "launchctl")).toBe("launchctl");
    expect(displayCommand("/bin/launchctl", "launchctl")).toBe("launchctl");
    expect(displayCommand("/tmp/standin", "launchctl")).toBe("/tmp/standin");
    expect(displayCommand("/usr/bin/systemctl", "systemctl")).toBe("systemctl");
  });

  it("recognise an old launchctl that lacks a subcommand, and a job that is not loaded", () => {
    expect(isUnknownSubcommand(result(64, "Unrecognized subcommand: bootout"))).toBe(true);
    expect(isUnknownSubcommand(result(1, 'launchctl: unknown subcommand "bootstrap"'))).toBe(true);
    expect(isUnknownSubcommand(result(5, "Bootstrap failed: 5: Input/output error"))).toBe(false);
    expect(isNotLoaded(result(113, 'Could not find service "com.x" in domain for port'))).toBe(true);
    expect(isNotLoaded(result(3, "Boot-out failed: 3: No such process"))).toBe(true);
    expect(isNotLoaded(result(1, "Load failed: 5: Input/output error"))).toBe(false);
  });
});
