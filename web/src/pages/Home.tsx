import { Anchor, Badge, Card, Group, SimpleGrid, Stack, Table, Text, Title, VisuallyHidden } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { api, APP_API, type Collection, type Document } from "../lib/api";
import { bars, type DayCount, total } from "../lib/series";
import { Failure, Pending, when } from "../components";

interface HomeFigures {
  events_per_day: DayCount[];
  queue: { queued: number; running: number; dead: number; oldest_queued_seconds: number };
}

interface Campaign {
  name: string;
  status: string;
  send_time?: string | null;
  updated_at?: string | null;
}

function EventsChart({ days }: { days: DayCount[] }) {
  const width = 560;
  const height = 140;
  const step = width / Math.max(1, days.length);
  return (
    <figure style={{ margin: 0 }}>
      <svg viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-labelledby="events-chart-title">
        <title id="events-chart-title">{`Events per day, last ${days.length} days: ${total(days)} in all`}</title>
        {bars(days).map((bar, i) => (
          <rect
            key={bar.date}
            x={i * step + 2}
            width={step - 4}
            y={height - Math.max(1, bar.height * (height - 4))}
            height={Math.max(1, bar.height * (height - 4))}
            fill="var(--mantine-color-blue-6)"
          >
            <title>{`${bar.date}: ${bar.count}`}</title>
          </rect>
        ))}
      </svg>
      <Group justify="space-between" aria-hidden="true">
        <Text size="xs" c="dimmed">
          {days[0]?.date}
        </Text>
        <Text size="xs">{total(days)} events</Text>
        <Text size="xs" c="dimmed">
          {days[days.length - 1]?.date}
        </Text>
      </Group>
      <VisuallyHidden>
        <table>
          <caption>Events per day</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Events</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => (
              <tr key={d.date}>
                <td>{d.date}</td>
                <td>{d.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </VisuallyHidden>
    </figure>
  );
}

function RecentCampaigns() {
  const campaigns = useQuery({
    queryKey: ["campaigns", "recent"],
    queryFn: () =>
      api<Collection<Campaign>>(
        `/api/campaigns?filter=${encodeURIComponent("equals(messages.channel,'email')")}&sort=-updated_at`,
      ),
  });
  if (campaigns.isPending) return <Pending />;
  if (campaigns.error) return <Failure error={campaigns.error} />;
  const rows = campaigns.data.data.slice(0, 5);
  if (!rows.length) return <Text c="dimmed">No email campaigns yet.</Text>;
  return (
    <Table>
      <Table.Thead>
        <Table.Tr>
          <Table.Th scope="col">Campaign</Table.Th>
          <Table.Th scope="col">Status</Table.Th>
          <Table.Th scope="col">Updated</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.map((c) => (
          <Table.Tr key={c.id}>
            <Table.Td>{c.attributes.name}</Table.Td>
            <Table.Td>
              <Badge variant="light">{c.attributes.status}</Badge>
            </Table.Td>
            <Table.Td>{when(c.attributes.updated_at)}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

export default function Home() {
  const home = useQuery({
    queryKey: ["app-home"],
    queryFn: () => api<Document<HomeFigures>>(`${APP_API}/home`),
  });
  return (
    <Stack>
      <Title order={1}>Home</Title>
      {home.isPending ? <Pending /> : null}
      {home.error ? <Failure error={home.error} /> : null}
      {home.data ? (
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <Card withBorder>
            <Title order={2} size="h4" mb="sm">
              Events over time
            </Title>
            <EventsChart days={home.data.data.attributes.events_per_day} />
          </Card>
          <Card withBorder>
            <Title order={2} size="h4" mb="sm">
              Queue health
            </Title>
            <Group>
              <Stat label="Queued jobs" value={home.data.data.attributes.queue.queued} />
              <Stat label="Running" value={home.data.data.attributes.queue.running} />
              <Stat label="Dead" value={home.data.data.attributes.queue.dead} />
              <Stat label="Oldest queued (s)" value={home.data.data.attributes.queue.oldest_queued_seconds} />
            </Group>
            {home.data.data.attributes.queue.dead > 0 ? (
              <Text size="sm" mt="sm">
                Dead jobs can be retried with <code>tidings jobs retry</code>.
              </Text>
            ) : null}
          </Card>
        </SimpleGrid>
      ) : null}
      <Card withBorder>
        <Title order={2} size="h4" mb="sm">
          Recent campaigns
        </Title>
        <RecentCampaigns />
      </Card>
      <Text size="sm">
        <Anchor href="/docs" target="_blank" rel="noreferrer">
          API documentation
        </Anchor>
      </Text>
    </Stack>
  );
}

function Stat({ label, value }: { label: string; value: number }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="xl" fw={700}>
        {value}
      </Text>
    </div>
  );
}
