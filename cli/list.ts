/**
 * `deno task list` (docs/cli.md): presets, suites, methods and their parameters with defaults,
 * and each method's knob (the parameter `--suite frontier` sweeps).
 *
 * @module
 */
import { SUITES } from "../bench/suites.ts";
import { METHODS } from "../methods/registry.ts";
import { formatParams } from "../methods/spec.ts";
import { preset, PRESETS } from "../scenarios/presets.ts";
import { totalTokens } from "../scenarios/scenario.ts";
import { parseCommandLine, runCommand } from "./_usage.ts";

/** The listing as plain text. */
export function listing(): string {
  const lines: string[] = ["PRESETS (full size / ci size tokens)"];
  for (const info of PRESETS) {
    const full = preset(info.name, "full");
    const ci = preset(info.name, "ci");
    lines.push(
      `  ${info.name.padEnd(24)} ${String(totalTokens(full)).padStart(7)} / ${
        String(totalTokens(ci)).padStart(5)
      }  ${
        full.latent.join("×")
      }, ${full.shots.length} shot(s), text ${full.text.tokens} ${full.text.position}, ${full.heads}×${full.headDim}  ${info.summary}`,
    );
  }
  lines.push("  (length sweeps: append @x2, @x4 or @x8 to a preset name)", "", "SUITES");
  for (const suite of SUITES.values()) {
    lines.push(`  ${suite.name.padEnd(10)} ${suite.summary}: ${suite.scenarios.join(", ")}`);
  }
  lines.push("", "METHODS (name:key=value;… — defaults shown)");
  for (const method of METHODS.values()) {
    lines.push(`  ${method.name.padEnd(8)} ${method.summary}`);
    lines.push(`           defaults: ${formatParams(method.defaults) || "(none)"}`);
    for (const [key, doc] of Object.entries(method.paramDocs)) {
      lines.push(`           ${key}: ${doc}`);
    }
    if (method.knob) {
      lines.push(
        `           knob (--suite frontier): ${method.knob.param}, ${method.knob.summary}`,
      );
    }
  }
  lines.push("  ./my_method.ts  a user's module (see examples/README.md)");
  return lines.join("\n");
}

const USAGE = `usage: deno task list

Prints the presets (full and ci sizes), the suites, and every method with its parameters and
their defaults.`;

if (import.meta.main) {
  await runCommand("list", () => {
    const { values } = parseCommandLine({
      args: Deno.args,
      options: { help: { type: "boolean", short: "h" } },
    });
    console.log(values.help ? USAGE : listing());
    return Promise.resolve(0);
  });
}
