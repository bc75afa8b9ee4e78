import { Alert, Center, Loader } from "@mantine/core";
import { ApiError } from "./lib/api";

export function Pending() {
  return (
    <Center p="md">
      <Loader size="sm" aria-label="Loading" />
    </Center>
  );
}

export function Failure({ error }: { error: unknown }) {
  const denied = error instanceof ApiError && error.status === 403;
  return (
    <Alert color={denied ? "gray" : "red"} role="alert" title={denied ? "Not available to your role" : "Something went wrong"}>
      {error instanceof Error ? error.message : String(error)}
    </Alert>
  );
}

export function when(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}
