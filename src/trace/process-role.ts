/**
 * Whether this OpenClaw process is itself someone's subagent, and the lead runs' identity
 * overrides (SPEC §2, §4.1, §4.2).
 *
 * A process is a child when its environment says so the way other Dynamo harnesses mark child
 * processes: Pi's `PI_SUBAGENT_CHILD=1` with run id and agent, or the `OPENCLAW_AGENT_*`
 * equivalents (dynamo-wire.md §12.1; OpenClaw's own subagents are in-process and never set these).
 * Children inherit their parent's environment, so an inherited `DYN_AGENT_TRAJECTORY_ID` names the
 * PARENT's chain there: it becomes the parent trajectory, never the child's own id. The same holds
 * for a process OpenClaw's `exec` tool started (`OPENCLAW_SHELL=exec`, e.g. a nested `openclaw
 * agent`): the plugin hands it `DYN_AGENT_PARENT_TRAJECTORY_ID` = the run's trajectory (span-tree
 * `execEnv`), so it becomes a child chain of that run (docs/identity.md).
 */
import type { DynamoPluginConfig } from "../types.ts";

export interface ProcessRole {
  readonly processIsSubagent: boolean;
  readonly sessionIdOverride?: string | undefined;
  readonly leadTrajectoryIdOverride?: string | undefined;
  readonly leadParentTrajectoryId?: string | undefined;
}

type Env = Record<string, string | undefined>;

export function isChildProcess(env: Env): boolean {
  const marked = (prefix: string) =>
    env[`${prefix}_CHILD`] === "1" && Boolean(env[`${prefix}_RUN_ID`]?.trim()) && Boolean(env[`${prefix}_CHILD_AGENT`]?.trim());
  return marked("PI_SUBAGENT") || marked("OPENCLAW_AGENT");
}

/** Set by OpenClaw in the environment of every command its `exec` tool runs. */
function startedByExec(env: Env): boolean {
  return env.OPENCLAW_SHELL === "exec";
}

export function processRole(env: Env, config: Pick<DynamoPluginConfig, "sessionId" | "trajectoryId" | "parentTrajectoryId">): ProcessRole {
  const child = isChildProcess(env);
  if (!child && !startedByExec(env)) {
    return {
      processIsSubagent: false,
      sessionIdOverride: config.sessionId,
      leadTrajectoryIdOverride: config.trajectoryId,
      leadParentTrajectoryId: config.parentTrajectoryId,
    };
  }
  const parent = config.parentTrajectoryId ?? config.trajectoryId;
  return {
    processIsSubagent: child,
    sessionIdOverride: config.sessionId,
    leadTrajectoryIdOverride: undefined,
    leadParentTrajectoryId: parent,
  };
}
