import { describe, expect, it } from "vitest";
import { normalPhone, profileFilter, searchKind } from "./search";

describe("searchKind", () => {
  it("tells an email, a phone, a profile id and an external id apart", () => {
    expect(searchKind("ann@example.com")).toBe("email");
    expect(searchKind("+1 (617) 555-0123")).toBe("phone_number");
    expect(searchKind("01HZX3K4M5N6P7Q8R9S0T1V2W3")).toBe("id");
    expect(searchKind("shopify-42")).toBe("external_id");
    expect(searchKind("12345")).toBe("external_id"); // too short for a phone number
    expect(searchKind("   ")).toBeNull();
  });
});

describe("profileFilter", () => {
  it("builds Klaviyo's filter syntax, quoting what it must", () => {
    expect(profileFilter(" Ann@Example.com ")).toBe('equals(email,"ann@example.com")');
    expect(profileFilter("+1 617 555 0123")).toBe('equals(phone_number,"+16175550123")');
    expect(profileFilter('a"b\\c')).toBe('equals(external_id,"a\\"b\\\\c")');
    expect(profileFilter("01hzx3k4m5n6p7q8r9s0t1v2w3")).toBe('equals(id,"01HZX3K4M5N6P7Q8R9S0T1V2W3")');
    expect(profileFilter("")).toBeNull();
  });

  it("puts a + before a number written without one", () => {
    expect(normalPhone("44 20 7946 0958")).toBe("+442079460958");
  });
});
