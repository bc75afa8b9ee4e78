import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, APP_API, ApiError, type Document } from "./api";

export interface Membership {
  id: string;
  name: string;
  role: string;
  role_label: string;
}

export interface Me {
  email: string;
  name: string;
  account_id: string;
  role: string;
  scopes: string[];
  denied_operations: string[];
  accounts: Membership[];
}

export const ME_KEY = ["me"];

// Who is signed in; null when nobody is (a 401), so the app shows the sign-in page.
export function useMe() {
  return useQuery({
    queryKey: ME_KEY,
    queryFn: async (): Promise<Me | null> => {
      try {
        return (await api<Document<Me>>(`${APP_API}/me`)).data.attributes;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: 60_000,
  });
}

export function can(me: Me | null | undefined, scope: string): boolean {
  if (!me) return false;
  if (me.scopes.includes(scope)) return true;
  const [area, level] = scope.split(":");
  return level === "read" && me.scopes.includes(`${area}:write`);
}

// Forget every cached answer but who is signed in (they belonged to another person or account);
// `clear()` would also drop the query that the app's `useMe` observes.
export function forgetAllButMe(client: ReturnType<typeof useQueryClient>, me: Me | null) {
  client.removeQueries({ predicate: (query) => query.queryKey[0] !== ME_KEY[0] });
  client.setQueryData(ME_KEY, me);
}

export function useSignIn() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: { email: string; password: string }) =>
      api<Document<Me>>(`${APP_API}/session`, {
        method: "POST",
        json: { data: { type: "session", attributes: input } },
      }),
    onSuccess: (doc) => forgetAllButMe(client, doc.data.attributes),
  });
}

export function useSignOut() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api(`${APP_API}/session`, { method: "DELETE" }),
    onSettled: () => forgetAllButMe(client, null),
  });
}

export function useSwitchAccount() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (accountId: string) =>
      api<Document<Me>>(`${APP_API}/session/account`, {
        method: "POST",
        json: { data: { type: "account", id: accountId } },
      }),
    onSuccess: (doc) => forgetAllButMe(client, doc.data.attributes),
  });
}
