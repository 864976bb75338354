/**
 * Named suites: which scenarios and methods `deno task bench` runs (`--suite NAME`).
 *
 * @module
 */
import { METHODS } from "../methods/registry.ts";
import { SWEEP_FACTORS } from "../scenarios/presets.ts";

/**
 * How a suite turns its specs into cases: `matrix` runs every method spec on every scenario;
 * `frontier` sweeps every method's knob over its grid per scenario, with one dense reference
 * (docs/frontier.md).
 */
export type SuiteKind = "matrix" | "frontier";

/** A suite: scenarios (preset names or files) × method specs. */
export interface Suite {
  /** Name given to `--suite`. */
  name: string;
  /** How the specs become cases. */
  kind: SuiteKind;
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

const SUITE_LIST: Suite[] = [
  {
    name: "default",
    kind: "matrix",
    version: 1,
    summary: "every method on one single-shot and one multi-shot preset",
    scenarios: ["hunyuan-117f-768x1280", "moc-multi-shot"],
    methods: [...METHODS.keys()],
  },
  {
    name: "sweep",
    kind: "matrix",
    version: 1,
    summary: `every method on ${SWEEP_BASE} at ×${SWEEP_FACTORS.join(", ×")} frames`,
    scenarios: SWEEP_FACTORS.map((f) => f === 1 ? SWEEP_BASE : `${SWEEP_BASE}@x${f}`),
    methods: [...METHODS.keys()],
  },
  {
    name: "papers",
    kind: "matrix",
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
  {
    name: "frontier",
    kind: "frontier",
    version: 1,
    summary: "every method's knob over its grid, one dense reference a scenario (speed–quality)",
    scenarios: ["hunyuan-117f-768x1280", "moc-multi-shot", "wan-69f-768x1280"],
    methods: [...METHODS.values()].filter((m) => m.knob).map((m) => m.name),
  },
];

/** Every suite, by name. */
export const SUITES: ReadonlyMap<string, Suite> = new Map(SUITE_LIST.map((s) => [s.name, s]));
