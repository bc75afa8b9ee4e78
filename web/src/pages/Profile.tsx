import { Anchor, Badge, Card, Code, Group, List, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { api, type Collection, type Document, included, quote } from "../lib/api";
import { consentRows, type Subscriptions } from "../lib/consent";
import { Failure, Pending, when } from "../components";

interface ProfileAttributes {
  email?: string | null;
  phone_number?: string | null;
  external_id?: string | null;
  anonymous_id?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  organization?: string | null;
  title?: string | null;
  locale?: string | null;
  created?: string | null;
  updated?: string | null;
  last_event_date?: string | null;
  location?: Record<string, unknown> | null;
  properties?: Record<string, unknown>;
  subscriptions?: Subscriptions;
}

interface EventAttributes {
  datetime?: string;
  event_properties?: Record<string, unknown>;
}

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Card withBorder component="section" aria-label={title}>
      <Title order={2} size="h4" mb="sm">
        {title}
      </Title>
      {children}
    </Card>
  );
}

function Pairs({ rows }: { rows: [string, React.ReactNode][] }) {
  return (
    <Table>
      <Table.Tbody>
        {rows.map(([label, value]) => (
          <Table.Tr key={label}>
            <Table.Th scope="row" w="40%">
              {label}
            </Table.Th>
            <Table.Td style={{ wordBreak: "break-word" }}>{value}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function show(value: unknown): React.ReactNode {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "object") return <Code>{JSON.stringify(value)}</Code>;
  return String(value);
}

// Only the parts of an object that hold something (a location is mostly nulls).
function present(value: Record<string, unknown> | null | undefined): Record<string, unknown> | null {
  const kept = Object.entries(value ?? {}).filter(([, v]) => v !== null && v !== undefined && v !== "");
  return kept.length ? Object.fromEntries(kept) : null;
}

function Memberships({ id, kind, label }: { id: string; kind: "lists" | "segments"; label: string }) {
  const found = useQuery({
    queryKey: ["profile", id, kind],
    queryFn: () => api<Collection<{ name: string }>>(`/api/profiles/${id}/${kind}`),
  });
  if (found.isPending) return <Pending />;
  if (found.error) return <Failure error={found.error} />;
  if (!found.data.data.length) return <Text c="dimmed">In no {label}.</Text>;
  return (
    <List>
      {found.data.data.map((item) => (
        <List.Item key={item.id}>{item.attributes.name}</List.Item>
      ))}
    </List>
  );
}

function Timeline({ id }: { id: string }) {
  const events = useQuery({
    queryKey: ["profile", id, "events"],
    queryFn: () =>
      api<Collection<EventAttributes>>(
        `/api/events?filter=${encodeURIComponent(`equals(profile_id,${quote(id)})`)}&sort=-datetime&include=metric`,
      ),
  });
  if (events.isPending) return <Pending />;
  if (events.error) return <Failure error={events.error} />;
  if (!events.data.data.length) return <Text c="dimmed">No events yet.</Text>;
  return (
    <ol style={{ listStyle: "none", padding: 0, margin: 0 }} aria-label="Events, newest first">
      {events.data.data.map((event) => {
        const rel = event.relationships?.metric?.data;
        const metricId = rel && !Array.isArray(rel) ? rel.id : "";
        const metric = included<{ name: string }>(events.data, "metric", metricId);
        return (
          <li key={event.id} style={{ borderBottom: "1px solid var(--mantine-color-gray-3)", padding: "8px 0" }}>
            <Group justify="space-between" wrap="nowrap">
              <Text fw={600}>{metric?.attributes.name ?? "Event"}</Text>
              <Text size="sm" c="dimmed">
                <time dateTime={event.attributes.datetime}>{when(event.attributes.datetime)}</time>
              </Text>
            </Group>
            {event.attributes.event_properties && Object.keys(event.attributes.event_properties).length ? (
              <Code block>{JSON.stringify(event.attributes.event_properties, null, 1)}</Code>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

export default function Profile() {
  const { id = "" } = useParams();
  const profile = useQuery({
    queryKey: ["profile", id],
    queryFn: () =>
      api<Document<ProfileAttributes>>(`/api/profiles/${encodeURIComponent(id)}?additional-fields[profile]=subscriptions`),
  });
  if (profile.isPending) return <Pending />;
  if (profile.error) return <Failure error={profile.error} />;
  const a = profile.data.data.attributes;
  const name = [a.first_name, a.last_name].filter(Boolean).join(" ") || a.email || id;
  return (
    <Stack>
      <Anchor component={Link} to="/profiles" size="sm">
        ← Profiles
      </Anchor>
      <Title order={1}>{name}</Title>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Section title="Identifiers">
          <Pairs
            rows={[
              ["Profile id", id],
              ["Email", show(a.email)],
              ["Phone number", show(a.phone_number)],
              ["External id", show(a.external_id)],
              ["Anonymous id", show(a.anonymous_id)],
              ["Created", when(a.created)],
              ["Last event", when(a.last_event_date)],
            ]}
          />
        </Section>
        <Section title="Consent">
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Channel</Table.Th>
                <Table.Th scope="col">Consent</Table.Th>
                <Table.Th scope="col">Can receive</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {consentRows(a.subscriptions).map((row) => (
                <Table.Tr key={row.channel}>
                  <Table.Td>{row.channel}</Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={row.consent === "SUBSCRIBED" ? "green" : "gray"}>
                      {row.consent}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{row.canReceive === null ? "—" : row.canReceive ? "Yes" : `No${row.why ? ` (${row.why})` : ""}`}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Section>
        <Section title="Properties">
          <Pairs
            rows={[
              ["First name", show(a.first_name)],
              ["Last name", show(a.last_name)],
              ["Organization", show(a.organization)],
              ["Title", show(a.title)],
              ["Locale", show(a.locale)],
              ["Location", show(present(a.location))],
              ...Object.entries(a.properties ?? {}).map(([k, v]): [string, React.ReactNode] => [k, show(v)]),
            ]}
          />
        </Section>
        <Section title="Lists and segments">
          <Title order={3} size="h5">
            Lists
          </Title>
          <Memberships id={id} kind="lists" label="list" />
          <Title order={3} size="h5" mt="sm">
            Segments
          </Title>
          <Memberships id={id} kind="segments" label="segment" />
        </Section>
      </SimpleGrid>
      <Section title="Event timeline">
        <Timeline id={id} />
      </Section>
    </Stack>
  );
}
