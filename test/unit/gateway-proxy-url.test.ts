// The paths the wildcard proxy refuses to forward.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pathProblem } from "../../src/gateway/proxy-path.ts";

describe("the paths the wildcard proxy refuses", () => {
  it("refuses dot segments, literal or percent-encoded in any case", () => {
    for (const path of [
      "/v1/embeddings/../models",
      "/v1/embeddings/./x",
      "/v1/embeddings/%2e%2e/organization/api_keys",
      "/v1/embeddings/%2E%2e/x",
      "/v1/embeddings/.%2E",
      "/v1/embeddings/%2e",
    ])
      assert.match(pathProblem(path) ?? "", /dot segment/, path);
  });

  it("refuses encoded slashes and backslashes, which could move segment boundaries", () => {
    for (const path of ["/v1/embeddings%2f..%2fmodels", "/v1/embeddings/..%5Cmodels", "/v1/embeddings\\..\\models"])
      assert.match(pathProblem(path) ?? "", /encoded slash or a backslash/, path);
  });

  it("lets ordinary paths through, dots inside a name included", () => {
    for (const path of ["/v1/embeddings", "/v1/files/file-abc/content", "/v1/files/a.jsonl", "/api/chat", "/v1/x..y"])
      assert.equal(pathProblem(path), undefined, path);
  });
});
