/**
 * A user's MoGA router (`moga:router=PATH`): a JSON file holding the weights W as G rows of d
 * numbers, `[[w₀₀, …, w₀,d−1], …]`, applied to every head's keys.
 *
 * @module
 */
import { MethodSpecError } from "../method.ts";

/** Reads and checks a router file: G rows (= `groups`) of `headDim` finite numbers. */
export async function readRouterFile(
  path: string,
  shape: { groups: number; headDim: number },
): Promise<Float32Array> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new MethodSpecError(
      `moga: parameter "router" must be kmeans or a readable JSON file of [G][d] numbers ` +
        `(${path}: ${(e as Error).message})`,
    );
  }
  const { groups, headDim } = shape;
  const rows = Array.isArray(parsed) ? parsed : [];
  const fine = rows.length === groups &&
    rows.every((row) =>
      Array.isArray(row) && row.length === headDim &&
      row.every((x) => typeof x === "number" && Number.isFinite(x))
    );
  if (!fine) {
    throw new MethodSpecError(
      `moga: router file ${path} must hold ${groups} rows (parameter "groups") of ${headDim} ` +
        `finite numbers (the head dimension)`,
    );
  }
  return Float32Array.from((rows as number[][]).flat());
}
