import { describe, expect, it } from "vitest";
import { can, type Me } from "./session";

const me: Me = {
  email: "a@example.com",
  name: "",
  account_id: "ABC123",
  role: "content_creator",
  scopes: ["templates:write", "campaigns:write", "lists:read"],
  denied_operations: ["send_campaign"],
  accounts: [],
};

describe("can", () => {
  it("reads a write scope as allowing reads too, as the server does", () => {
    expect(can(me, "templates:read")).toBe(true);
    expect(can(me, "lists:read")).toBe(true);
    expect(can(me, "lists:write")).toBe(false);
    expect(can(me, "profiles:read")).toBe(false);
    expect(can(null, "lists:read")).toBe(false);
  });
});
