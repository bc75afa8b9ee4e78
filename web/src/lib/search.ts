import { quote } from "./api";

// What a search box holds decides which profile filter it becomes: an email, a phone number
// (E.164, or digits with separators), a Tidings profile id (a 26-character ULID), else an external id.
export type SearchKind = "email" | "phone_number" | "id" | "external_id";

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/i;
const PHONE = /^\+?[0-9 ()\-.]{7,20}$/;

export function searchKind(text: string): SearchKind | null {
  const value = text.trim();
  if (!value) return null;
  if (value.includes("@")) return "email";
  if (ULID.test(value)) return "id";
  if (PHONE.test(value) && /\d{7,}/.test(value.replace(/\D/g, ""))) return "phone_number";
  return "external_id";
}

export function normalPhone(text: string): string {
  const digits = text.replace(/[^\d+]/g, "");
  return digits.startsWith("+") ? digits : `+${digits}`;
}

export function profileFilter(text: string): string | null {
  const kind = searchKind(text);
  const value = text.trim();
  switch (kind) {
    case null:
      return null;
    case "email":
      return `equals(email,${quote(value.toLowerCase())})`;
    case "phone_number":
      return `equals(phone_number,${quote(normalPhone(value))})`;
    case "id":
      return `equals(id,${quote(value.toUpperCase())})`;
    case "external_id":
      return `equals(external_id,${quote(value)})`;
  }
}
