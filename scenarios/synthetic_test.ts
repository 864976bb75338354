import { deepEqual, equal, notDeepEqual, ok, rejects, throws } from "node:assert/strict";
import { type Scenario, ScenarioError, totalTokens } from "./scenario.ts";
import { DEFAULT_TEMPERATURE, describeSynthetic, syntheticInputs } from "./synthetic.ts";
import { planSyntheticScene, subjectWeight } from "./synthetic_scene.ts";

/** Fixed tiny scenario of the determinism check: two shots, a prompt segment a shot. */
const TINY: Scenario = {
  name: "tiny",
  latent: [4, 4, 8],
  text: { tokens: 8, position: "suffix" },
  shots: [2, 2],
  textSegments: [4, 4],
  heads: 2,
  headDim: 64,
  modelType: "hunyuan",
};

/**
 * SHA-256 of head 0's q, k and v bytes (little-endian f32, concatenated) of TINY at seed 1,
 * computed once from this implementation: any machine must reproduce it bit for bit.
 */
const TINY_HEAD0_SHA256 = "6e673eca2e22fa167b970c9122db762bee224bde4ba49d42cf12c19e97826dab";

function singleShot(frames: number, side: number, heads: number): Scenario {
  return {
    name: "single",
    latent: [frames, side, side],
    text: { tokens: 0, position: "none" },
    shots: [frames],
    textSegments: [],
    heads,
    headDim: 64,
    modelType: "wan",
  };
}

async function sha256(parts: Float32Array[]): Promise<string> {
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), offset);
    offset += part.byteLength;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Dense softmax attention probabilities in float64, scale 1/√d: an L×L row-major matrix. */
function denseProbabilities(q: Float32Array, k: Float32Array, tokens: number, d: number) {
  const p = new Float64Array(tokens * tokens);
  const scale = 1 / Math.sqrt(d);
  for (let i = 0; i < tokens; i++) {
    let max = -Infinity;
    for (let j = 0; j < tokens; j++) {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += q[i * d + c] * k[j * d + c];
      p[i * tokens + j] = dot * scale;
      max = Math.max(max, dot * scale);
    }
    let sum = 0;
    for (let j = 0; j < tokens; j++) {
      const e = Math.exp(p[i * tokens + j] - max);
      p[i * tokens + j] = e;
      sum += e;
    }
    for (let j = 0; j < tokens; j++) p[i * tokens + j] /= sum;
  }
  return p;
}

/**
 * Mean dense mass of a single-shot scenario's queries by distance: per key frame at temporal
 * distance 0, 1 and ≥ 3, and per key of the query's own frame at Chebyshev distance 0, 1, ≥ 3.
 */
async function massByDistance(scenario: Scenario, seed: number) {
  const [frames, rows, columns] = scenario.latent;
  const perFrame = rows * columns;
  const tokens = totalTokens(scenario);
  const { q, k } = await syntheticInputs(scenario, { seed }).head(0);
  const p = denseProbabilities(q, k, tokens, scenario.headDim);
  const temporal = { near: [0, 0], far: [0, 0] as number[], mass: [0, 0] };
  const spatialMass = [0, 0, 0];
  const spatialCount = [0, 0, 0];
  let farFrames = 0;
  for (let i = 0; i < tokens; i++) {
    const [ti, hi, wi] = [Math.floor(i / perFrame), Math.floor(i / columns) % rows, i % columns];
    const frameMass = new Float64Array(frames);
    for (let j = 0; j < tokens; j++) {
      const tj = Math.floor(j / perFrame);
      frameMass[tj] += p[i * tokens + j];
      if (tj !== ti) continue;
      const distance = Math.max(
        Math.abs(Math.floor(j / columns) % rows - hi),
        Math.abs((j % columns) - wi),
      );
      const bucket = distance === 0 ? 0 : distance === 1 ? 1 : distance >= 3 ? 2 : -1;
      if (bucket >= 0) {
        spatialMass[bucket] += p[i * tokens + j];
        spatialCount[bucket]++;
      }
    }
    for (let tj = 0; tj < frames; tj++) {
      const distance = Math.abs(tj - ti);
      if (distance === 0) temporal.mass[0] += frameMass[tj];
      else if (distance === 1) {
        temporal.mass[1] += frameMass[tj];
        temporal.near[1]++;
      } else if (distance >= 3) {
        temporal.far[0] += frameMass[tj];
        farFrames++;
      }
    }
  }
  return {
    temporal: [
      temporal.mass[0] / tokens,
      temporal.mass[1] / temporal.near[1],
      temporal.far[0] / farFrames,
    ],
    spatial: spatialMass.map((m, b) => m / spatialCount[b]),
  };
}

Deno.test("same seed, same bytes: head 0 of a fixed scenario has a pinned SHA-256", async () => {
  const { q, k, v } = await syntheticInputs(TINY, { seed: 1 }).head(0);
  equal(await sha256([q, k, v]), TINY_HEAD0_SHA256);
});

Deno.test("heads are independent of the order they are made in", async () => {
  const inOrder = syntheticInputs(TINY, { seed: 1 });
  await inOrder.head(0);
  const second = await inOrder.head(1);
  const alone = await syntheticInputs(TINY, { seed: 1 }).head(1);
  deepEqual(second, alone);
});

Deno.test("different seeds and different heads give different tensors", async () => {
  const a = await syntheticInputs(TINY, { seed: 1 }).head(0);
  const b = await syntheticInputs(TINY, { seed: 2 }).head(0);
  const c = await syntheticInputs(TINY, { seed: 1 }).head(1);
  for (const other of [b, c]) {
    notDeepEqual(other.q, a.q);
    notDeepEqual(other.k, a.k);
    notDeepEqual(other.v, a.v);
  }
});

Deno.test("tensors have the source's shape, no zeros, no NaN, and V varies", async () => {
  const source = syntheticInputs(TINY, { seed: 5 });
  equal(source.tokens, totalTokens(TINY));
  deepEqual([source.heads, source.headDim], [2, 64]);
  const { q, k, v } = await source.head(1);
  for (const tensor of [q, k, v]) {
    equal(tensor.length, totalTokens(TINY) * 64);
    ok(tensor.every((x) => Number.isFinite(x) && x !== 0));
  }
  const firstRow = v.subarray(0, 64);
  ok(
    Array.from({ length: totalTokens(TINY) }, (_, i) => i).some((i) =>
      v.subarray(i * 64, i * 64 + 64).some((x, c) => Math.abs(x - firstRow[c]) > 0.5)
    ),
  );
});

Deno.test("attention mass decays with temporal and spatial distance", async () => {
  for (const seed of [1, 2, 3]) {
    const { temporal, spatial } = await massByDistance(singleShot(8, 8, 1), seed);
    ok(temporal[0] > temporal[1] && temporal[1] > temporal[2], `seed ${seed}: t ${temporal}`);
    ok(spatial[0] > spatial[1] && spatial[1] > spatial[2], `seed ${seed}: s ${spatial}`);
  }
});

/** Mean Shannon entropy (nats) of the rows of an L×L probability matrix. */
function meanRowEntropy(p: Float64Array, tokens: number): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) sum -= p[i] * Math.log(p[i]);
  return sum / tokens;
}

// Temperature divides every logit, so a softmax row's entropy grows strictly with it (dH/dT =
// Var(logits)/T³): what "peaked" means, for any inputs. Powers of two keep q·T exact in f32.
Deno.test("temperature divides every logit: same K, Q scaled by 1/T, entropy grows with T", async () => {
  const scenario = singleShot(4, 8, 1);
  const tokens = totalTokens(scenario);
  const usual = await syntheticInputs(scenario, { seed: 1 }).head(0);
  const entropies: number[] = [];
  for (const temperature of [0.5, DEFAULT_TEMPERATURE, 2]) {
    const { q, k, v } = await syntheticInputs(scenario, { seed: 1, temperature }).head(0);
    deepEqual([k, v], [usual.k, usual.v], `K and V at temperature ${temperature}`);
    ok(q.every((x, i) => x * temperature === usual.q[i]), `Q·${temperature} = Q at 1`);
    entropies.push(meanRowEntropy(denseProbabilities(q, k, tokens, scenario.headDim), tokens));
  }
  ok(entropies[0] < entropies[1] && entropies[1] < entropies[2], `entropies ${entropies}`);
});

Deno.test("a recurring subject attends the earlier shot it appeared in", async () => {
  const scenario: Scenario = {
    ...singleShot(12, 8, 4),
    name: "three-shots",
    shots: [4, 4, 4],
  };
  const [frames, rows, columns] = scenario.latent;
  const tokens = totalTokens(scenario);
  const perShot = 4 * rows * columns;
  for (const seed of [1, 2, 3]) {
    const scene = planSyntheticScene(scenario, seed);
    const recurring = scene.shotSubjects[2][0];
    ok(scene.shotSubjects[0].includes(recurring) && !scene.shotSubjects[1].includes(recurring));
    const queries: number[] = [];
    for (let t = 8; t < frames; t++) {
      for (let h = 0; h < rows; h++) {
        for (let w = 0; w < columns; w++) {
          if (subjectWeight(scene, scenario, 0, [t, h, w]) > 0.5) {
            queries.push((t * rows + h) * columns + w);
          }
        }
      }
    }
    ok(queries.length > 0);
    const source = syntheticInputs(scenario, { seed });
    let withSubject = 0;
    let without = 0;
    for (let head = 0; head < scenario.heads; head++) {
      const { q, k } = await source.head(head);
      const p = denseProbabilities(q, k, tokens, scenario.headDim);
      for (const i of queries) {
        for (let j = 0; j < perShot; j++) {
          withSubject += p[i * tokens + j];
          without += p[i * tokens + perShot + j];
        }
      }
    }
    ok(withSubject > 1.5 * without, `seed ${seed}: shot 0 ${withSubject}, shot 1 ${without}`);
  }
});

Deno.test("description, bad heads and bad options", async () => {
  const source = syntheticInputs(TINY, { seed: 4, temperature: 0.5 });
  equal(source.description, "synthetic(seed=4, temperature=0.5)");
  equal(describeSynthetic({ seed: 4 }), `synthetic(seed=4, temperature=${DEFAULT_TEMPERATURE})`);
  await rejects(source.head(2), /head must be an integer in 0…1 \(got 2\)/);
  throws(() => syntheticInputs(TINY, { seed: 1, temperature: 0 }), ScenarioError);
  throws(() => syntheticInputs(TINY, { seed: 1.5 }), /seed must be an integer/);
});

Deno.test("synthetic hidden states: one [L, d] content per token, shared scene within a shot", async () => {
  const source = syntheticInputs(TINY, { seed: 1 });
  const { dims, x } = await source.hidden!();
  equal(dims, TINY.headDim);
  equal(x.length, totalTokens(TINY) * dims);
  deepEqual(x, (await syntheticInputs(TINY, { seed: 1 }).hidden!()).x);
  notDeepEqual(x, (await syntheticInputs(TINY, { seed: 2 }).hidden!()).x);
  const cosine = (a: number, b: number) => {
    let [ab, aa, bb] = [0, 0, 0];
    for (let c = 0; c < dims; c++) {
      const [u, v] = [x[a * dims + c], x[b * dims + c]];
      [ab, aa, bb] = [ab + u * v, aa + u * u, bb + v * v];
    }
    return ab / Math.sqrt(aa * bb);
  };
  // Tokens of one shot share its scene vector; the two shots' scenes share 30% of their energy.
  const P = 32;
  let same = 0;
  let across = 0;
  for (let i = 0; i < P; i++) {
    same += cosine(i, P + i) / P;
    across += cosine(i, 2 * P + i) / P;
  }
  ok(same > across + 0.2, `same shot ${same.toFixed(3)} vs across shots ${across.toFixed(3)}`);
  ok(x.subarray(4 * P * dims).some((value) => value !== 0), "text tokens have content");
});
