// A profile's `subscriptions` (additional-fields[profile]=subscriptions) as one row per channel.
interface Marketing {
  consent?: string;
  can_receive_email_marketing?: boolean;
  can_receive_sms_marketing?: boolean;
  suppression?: { reason?: string }[];
}

export interface Subscriptions {
  email?: { marketing?: Marketing };
  sms?: { marketing?: Marketing; transactional?: Marketing };
  mobile_push?: { marketing?: Marketing };
}

export interface ConsentRow {
  channel: string;
  consent: string;
  canReceive: boolean | null;
  why: string;
}

export function consentRows(subs: Subscriptions | undefined): ConsentRow[] {
  const email = subs?.email?.marketing;
  const sms = subs?.sms?.marketing;
  const push = subs?.mobile_push?.marketing;
  return [
    {
      channel: "Email",
      consent: email?.consent ?? "NEVER_SUBSCRIBED",
      canReceive: email?.can_receive_email_marketing ?? null,
      why: (email?.suppression ?? []).map((s) => s.reason ?? "").filter(Boolean).join(", "),
    },
    {
      channel: "SMS",
      consent: sms?.consent ?? "NEVER_SUBSCRIBED",
      canReceive: sms?.can_receive_sms_marketing ?? null,
      why: "",
    },
    { channel: "Push", consent: push?.consent ?? "NEVER_SUBSCRIBED", canReceive: null, why: "" },
  ];
}
