import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, errorFrom, REVISION } from "./api";

afterEach(() => vi.unstubAllGlobals());

describe("api", () => {
  it("sends the revision and JSON, with the cookie of this origin", async () => {
    const fetch = vi.fn(async () => new Response(JSON.stringify({ data: [] }), { status: 200 }));
    vi.stubGlobal("fetch", fetch);
    await api("/api/lists", { method: "POST", json: { data: { type: "list" } } });
    const [, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    const headers = init.headers as Record<string, string>;
    expect(headers.revision).toBe(REVISION);
    expect(headers["Content-Type"]).toBe("application/vnd.api+json");
    expect(init.credentials).toBe("same-origin");
    expect(init.body).toBe('{"data":{"type":"list"}}');
  });

  it("turns a JSON:API error into an ApiError with its status, code and detail", async () => {
    const body = { errors: [{ status: 403, code: "permission_denied", detail: "Your role does not allow it." }] };
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify(body), { status: 403 })));
    await expect(api("/api/x")).rejects.toMatchObject({ status: 403, code: "permission_denied" });
    expect(errorFrom(500, null)).toBeInstanceOf(ApiError);
    expect(errorFrom(500, null).message).toBe("HTTP 500");
  });
});
