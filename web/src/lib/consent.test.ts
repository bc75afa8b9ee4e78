import { describe, expect, it } from "vitest";
import { consentRows } from "./consent";

describe("consentRows", () => {
  it("gives one row per channel with the reason a profile cannot receive", () => {
    const rows = consentRows({
      email: { marketing: { consent: "SUBSCRIBED", can_receive_email_marketing: false, suppression: [{ reason: "HARD_BOUNCE" }] } },
      sms: { marketing: { consent: "UNSUBSCRIBED", can_receive_sms_marketing: false } },
    });
    expect(rows.map((r) => r.channel)).toEqual(["Email", "SMS", "Push"]);
    expect(rows[0]).toMatchObject({ consent: "SUBSCRIBED", canReceive: false, why: "HARD_BOUNCE" });
    expect(rows[1]).toMatchObject({ consent: "UNSUBSCRIBED", canReceive: false });
  });

  it("reads a profile without subscriptions as never subscribed", () => {
    expect(consentRows(undefined).every((r) => r.consent === "NEVER_SUBSCRIBED")).toBe(true);
  });
});
