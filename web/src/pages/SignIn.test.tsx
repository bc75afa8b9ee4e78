import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ME_KEY } from "../lib/session";
import { SignIn } from "./SignIn";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function mount(client: QueryClient) {
  return render(
    <MantineProvider>
      <QueryClientProvider client={client}>
        <SignIn />
      </QueryClientProvider>
    </MantineProvider>,
  );
}

describe("SignIn", () => {
  it("shows the server's reason when signing in fails, in an alert", async () => {
    const body = { errors: [{ status: 401, code: "not_authenticated", detail: "Incorrect email or password." }] };
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify(body), { status: 401 })));
    mount(new QueryClient());
    fireEvent.change(screen.getByLabelText(/Email/), { target: { value: "a@example.com" } });
    fireEvent.change(screen.getByLabelText(/^Password/), { target: { value: "wrong password" } });
    await act(async () => {
      fireEvent.submit(screen.getByRole("button", { name: "Sign in" }).closest("form")!);
    });
    expect((await screen.findByRole("alert")).textContent).toContain("Incorrect email or password.");
  });

  it("keeps who signed in, so the app shows the shell", async () => {
    const me = { email: "a@example.com", account_id: "ABC123", accounts: [], scopes: [] };
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ data: { attributes: me } }), { status: 201 })));
    const client = new QueryClient();
    mount(client);
    fireEvent.change(screen.getByLabelText(/Email/), { target: { value: "a@example.com" } });
    fireEvent.change(screen.getByLabelText(/^Password/), { target: { value: "right password!" } });
    await act(async () => {
      fireEvent.submit(screen.getByRole("button", { name: "Sign in" }).closest("form")!);
    });
    await vi.waitFor(() => expect(client.getQueryData(ME_KEY)).toMatchObject({ account_id: "ABC123" }));
  });
});
