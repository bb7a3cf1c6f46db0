/**
 * The demo's agent task. The lead agent reads a file, tries to read one that does not exist (a
 * failing tool), and spawns a subagent that runs a shell command; OpenClaw then runs the lead once
 * more to announce the subagent's result. The simulator follows the `[[sim:…]]` directives (see
 * test/sim/README.md: `{{sim:…}}` inside the spawn task are the subagent's own); a real model gets
 * the plain-English version.
 */

export const WORKSPACE_FILES: Record<string, string> = {
  "hello.txt": "hello from the workspace file\n",
  "notes.txt": "Dynamo joins its records to this trace through x-request-id and the trajectory ids.\n",
};

/** The subagent's command prints the trace context OpenClaw's exec tool handed it (SPEC §3.3). */
const CHILD_COMMAND = "echo TRACEPARENT=$TRACEPARENT";

export const SIMULATED_TASK =
  "Demo task: read hello.txt, try missing.txt, then delegate. " +
  "[[sim:read hello.txt]] [[sim:read missing.txt]] " +
  `[[sim:spawn Read notes.txt and show your trace context. {{sim:read notes.txt}} {{sim:exec ${CHILD_COMMAND}}} {{sim:text Child done.}}]] ` +
  "[[sim:text Lead done.]]";

export const REAL_MODEL_TASK =
  "Do these steps in order, using tools. 1) Read the file hello.txt. 2) Read the file missing.txt (it does not exist; " +
  "just note the error). 3) Spawn one subagent with sessions_spawn whose task is: read notes.txt, then run the shell " +
  `command \`${CHILD_COMMAND}\` with exec, and report both results. 4) Reply with one short sentence.`;

