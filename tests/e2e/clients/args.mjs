// What the Bun clients (bun_client.mjs, bun_serve_client.mjs) share:
// their options, and the start signal a test gives them.
//
// --tag TAG: a word each call's message ends with (default: none).
// --wait: print "ready", then start after a line on stdin (so a test
//       can wait until the sensor has probed the executable).

// Takes --tag TAG and --wait out of @argv (the arguments after the
// script); returns { args: what is left, in order, tag, wait }.
export function parseArgs(argv) {
  const args = [...argv];
  let tag = "";
  const ti = args.indexOf("--tag");
  if (ti >= 0) { tag = args[ti + 1]; args.splice(ti, 2); }
  const wi = args.indexOf("--wait");
  const wait = wi >= 0;
  if (wait) args.splice(wi, 1);
  return { args, tag, wait };
}

// With @wait: prints "ready" and resolves after a line on stdin.
export async function waitForStart(wait) {
  if (!wait) return;
  console.log("ready");
  await new Promise((resolve) => process.stdin.once("data", resolve));
  process.stdin.pause();
}
