import { Anchor, Button, Group, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api, type Collection } from "../lib/api";
import { profileFilter, searchKind } from "../lib/search";
import { Failure, Pending, when } from "../components";

interface ProfileAttributes {
  email?: string | null;
  phone_number?: string | null;
  external_id?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  created?: string | null;
}

const KIND_LABELS = { email: "email", phone_number: "phone number", id: "profile id", external_id: "external id" };

export default function Profiles() {
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const [text, setText] = useState(q);
  const filter = profileFilter(q);
  const profiles = useQuery({
    queryKey: ["profiles", filter],
    queryFn: () =>
      api<Collection<ProfileAttributes>>(
        filter ? `/api/profiles?filter=${encodeURIComponent(filter)}` : "/api/profiles?sort=-created&page[size]=20",
      ),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setParams(text.trim() ? { q: text.trim() } : {});
  };
  const kind = searchKind(q);
  return (
    <Stack>
      <Title order={1}>Profiles</Title>
      <form onSubmit={submit} role="search" aria-label="Profiles">
        <Group align="end">
          <TextInput
            label="Find a profile"
            description="An email, a phone number, an external id or a profile id"
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
            w={420}
            maw="100%"
          />
          <Button type="submit">Search</Button>
        </Group>
      </form>
      <Text size="sm" c="dimmed" aria-live="polite">
        {kind ? `Profiles whose ${KIND_LABELS[kind]} is “${q}”` : "Newest profiles"}
      </Text>
      {profiles.isPending ? <Pending /> : null}
      {profiles.error ? <Failure error={profiles.error} /> : null}
      {profiles.data && profiles.data.data.length === 0 ? <Text>No profile found.</Text> : null}
      {profiles.data && profiles.data.data.length > 0 ? (
        <Table striped highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Profile</Table.Th>
              <Table.Th scope="col">Email</Table.Th>
              <Table.Th scope="col">Phone</Table.Th>
              <Table.Th scope="col">External id</Table.Th>
              <Table.Th scope="col">Created</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {profiles.data.data.map((p) => (
              <Table.Tr key={p.id}>
                <Table.Td>
                  <Anchor component={Link} to={`/profiles/${p.id}`}>
                    {[p.attributes.first_name, p.attributes.last_name].filter(Boolean).join(" ") || p.id}
                  </Anchor>
                </Table.Td>
                <Table.Td>{p.attributes.email ?? "—"}</Table.Td>
                <Table.Td>{p.attributes.phone_number ?? "—"}</Table.Td>
                <Table.Td>{p.attributes.external_id ?? "—"}</Table.Td>
                <Table.Td>{when(p.attributes.created)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      ) : null}
    </Stack>
  );
}
