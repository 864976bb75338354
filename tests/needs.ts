/**
 * The one way a test may be left out: tests that need something a machine can lack (an adapter
 * with `shader-f16`, Chromium, a hardware GPU, an adapter on wgpu's GL backend) register through {@link testNeeding}, which names
 * what is missing in the ignored test's name and logs it; CI sets {@link REQUIRED_ENV} to what
 * its machine guarantees, so a guaranteed need that is missing fails the test instead of hiding
 * it. The GPU group ({@link gpuGroupTest}) holds variants too slow for a software adapter; it is
 * registered only by `deno task test:gpu`.
 *
 * @module
 */
import type { AdapterFacts } from "../gpu/runtime.ts";

/** Something a test needs that a machine may lack. */
export type Need = "shader-f16" | "chromium" | "gpu" | "gl-adapter";

/** Every {@link Need}, for validating {@link REQUIRED_ENV}. */
export const NEEDS: readonly Need[] = ["shader-f16", "chromium", "gpu", "gl-adapter"];

/**
 * Comma-separated needs this machine guarantees (CI sets it, e.g. `chromium,shader-f16`): a test
 * needing one of them that is missing runs and fails, saying what is missing.
 */
export const REQUIRED_ENV = "LONGSHOT_TEST_REQUIRES";

/** A file that gets one JSON line `{need, test, missing}` per ignored test (CI counts them). */
export const IGNORE_LOG_ENV = "LONGSHOT_TEST_IGNORE_LOG";

/** Set to `gpu` (by `deno task test:gpu`) to register the GPU group. */
export const GROUP_ENV = "LONGSHOT_TEST_GROUP";

/** Name prefix of every GPU-group test (`deno task test:gpu` filters on it). */
export const GPU_GROUP_PREFIX = "[gpu group] ";

function requiredNeeds(): Set<Need> {
  const listed = (Deno.env.get(REQUIRED_ENV) ?? "").split(",").map((s) => s.trim()).filter(
    Boolean,
  );
  for (const need of listed) {
    if (!(NEEDS as readonly string[]).includes(need)) {
      throw new RangeError(`${REQUIRED_ENV} must list needs of ${NEEDS.join(", ")} (got ${need})`);
    }
  }
  return new Set(listed as Need[]);
}

/**
 * Registers `definition` as a test that needs `need`. `missing` is null when this machine meets
 * it, else one line saying what is missing (e.g. `adapter "llvmpipe" lacks shader-f16`). An unmet
 * need ignores the test, with `missing` in its name and a line in {@link IGNORE_LOG_ENV}'s file;
 * where {@link REQUIRED_ENV} lists the need, the test runs and fails with that line instead.
 */
export function testNeeding(
  need: Need,
  missing: string | null,
  definition: Deno.TestDefinition,
): void {
  if (missing === null) {
    Deno.test(definition);
    return;
  }
  if (requiredNeeds().has(need)) {
    Deno.test({
      ...definition,
      fn: () => {
        throw new Error(`${REQUIRED_ENV} requires ${need} on this machine, but ${missing}`);
      },
    });
    return;
  }
  const log = Deno.env.get(IGNORE_LOG_ENV);
  if (log) {
    const line = JSON.stringify({ need, test: definition.name, missing });
    Deno.writeTextFileSync(log, `${line}\n`, { append: true });
  }
  Deno.test({ ...definition, name: `${definition.name} (ignored: ${missing})`, ignore: true });
}

/** One line saying why `facts`' adapter cannot run f16 storage, or null when it can. */
export function lacksShaderF16(facts: AdapterFacts): string | null {
  return facts.shaderF16 ? null : `adapter "${facts.description}" lacks shader-f16`;
}

/**
 * Registers `definition` in the GPU group: shapes and tilings a software adapter takes minutes
 * to compile. Registered only when {@link GROUP_ENV} is `gpu` (`deno task test:gpu`), named with
 * {@link GPU_GROUP_PREFIX}, and needing a hardware adapter.
 */
export function gpuGroupTest(facts: AdapterFacts, definition: Deno.TestDefinition): void {
  if (Deno.env.get(GROUP_ENV) !== "gpu") return;
  const missing = facts.fallback
    ? `adapter "${facts.description}" is a software fallback, the GPU group needs a GPU`
    : null;
  testNeeding("gpu", missing, { ...definition, name: `${GPU_GROUP_PREFIX}${definition.name}` });
}
