import { deepEqual, equal, rejects } from "node:assert/strict";
import { join } from "node:path";
import { expandMethodsFiles, isMethodsFileSpec, METHODS_FILE_SCHEMA } from "./methods_file.ts";

async function withFile(content: unknown, run: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "methods.json");
  try {
    await Deno.writeTextFile(path, typeof content === "string" ? content : JSON.stringify(content));
    await run(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a methods file's specs replace its entry in place", async () => {
  const file = { schema: METHODS_FILE_SCHEMA, methods: ["moc:ks=2/4", "radial:decay=1"], note: 1 };
  await withFile(file, async (path) => {
    deepEqual(
      await expandMethodsFiles(["dense", path, "sta"]),
      ["dense", "moc:ks=2/4", "radial:decay=1", "sta"],
    );
  });
  equal(isMethodsFileSpec("./CAL.JSON"), true);
  equal(isMethodsFileSpec("moc:k=2"), false);
  equal(isMethodsFileSpec("./my_method.ts"), false);
});

Deno.test("a bad methods file is one line naming the file and the field", async () => {
  const cases: Array<[unknown, RegExp]> = [
    ["{", /: is not JSON/],
    [[], /must be a JSON object with "schema" and "methods"/],
    [{ methods: ["moc"] }, /"schema" must be "longshot\.methods\/1" \(got undefined\)/],
    [{ schema: METHODS_FILE_SCHEMA, methods: [] }, /"methods" must be a non-empty list/],
    [{ schema: METHODS_FILE_SCHEMA, methods: ["moc", 3] }, /"methods" must be a non-empty list/],
    [{ schema: METHODS_FILE_SCHEMA, methods: ["other.json"] }, /names another methods file/],
  ];
  for (const [content, message] of cases) {
    await withFile(content, async (path) => {
      await rejects(expandMethodsFiles([path]), (e: Error) => {
        equal(e.name, "MethodSpecError");
        equal(e.message.startsWith(`--methods ${path}: `), true, e.message);
        return message.test(e.message);
      });
    });
  }
  await rejects(expandMethodsFiles(["/nonexistent/x.json"]), /x\.json: cannot be read/);
});
