/**
 * Named suites: which scenarios and methods `deno task bench` runs (`--suite NAME`).
 *
 * @module
 */
import { METHODS } from "../methods/registry.ts";
import { SWEEP_FACTORS } from "../scenarios/presets.ts";

/** A suite: scenarios (preset names or files) × method specs. */
export interface Suite {
  /** Name given to `--suite`. */
  name: string;
  /** Bumped when the suite's cases change, so results name the exact suite (`default@1`). */
  version: number;
  /** One line for `deno task list`. */
  summary: string;
  /** Scenario specs. */
  scenarios: string[];
  /** Method specs (registry defaults). */
  methods: string[];
}

const SWEEP_BASE = "wan-69f-768x1280";

/** Every suite, by name. */
export const SUITES: ReadonlyMap<string, Suite> = new Map(
  [
    {
      name: "default",
      version: 1,
      summary: "every method on one single-shot and one multi-shot preset",
      scenarios: ["hunyuan-117f-768x1280", "moc-multi-shot"],
      methods: [...METHODS.keys()],
    },
    {
      name: "sweep",
      version: 1,
      summary: `every method on ${SWEEP_BASE} at ×${SWEEP_FACTORS.join(", ×")} frames`,
      scenarios: SWEEP_FACTORS.map((f) => f === 1 ? SWEEP_BASE : `${SWEEP_BASE}@x${f}`),
      methods: [...METHODS.keys()],
    },
    {
      name: "papers",
      version: 1,
      summary: "every method on every single-preset of docs/scenarios.md",
      scenarios: [
        "hunyuan-117f-768x1280",
        "hunyuan-117f-720x1280",
        "wan-81f-720x1280",
        "wan-69f-768x1280",
        "mochi-163f-480x848",
        "moc-single-shot",
        "moc-multi-shot",
      ],
      methods: [...METHODS.keys()],
    },
  ].map((s) => [s.name, s]),
);
