import { AppShell, Burger, Button, Group, NavLink, Select, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { Suspense } from "react";
import { NavLink as RouterLink, Outlet, useLocation } from "react-router";
import { type Me, useSignOut, useSwitchAccount } from "./lib/session";

const PAGES = [
  { to: "/", label: "Home", end: true },
  { to: "/profiles", label: "Profiles", end: false },
];

export function Shell({ me }: { me: Me }) {
  const [opened, { toggle, close }] = useDisclosure();
  const signOut = useSignOut();
  const switchAccount = useSwitchAccount();
  const location = useLocation();
  const current = me.accounts.find((a) => a.id === me.account_id);
  return (
    <AppShell header={{ height: 60 }} navbar={{ width: 220, breakpoint: "sm", collapsed: { mobile: !opened } }} padding="md">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Title order={2} size="h4">
              Tidings
            </Title>
          </Group>
          <Group wrap="nowrap">
            {me.accounts.length > 1 ? (
              <Select
                aria-label="Account"
                data={me.accounts.map((a) => ({ value: a.id, label: a.name }))}
                value={me.account_id}
                onChange={(value) => value && value !== me.account_id && switchAccount.mutate(value)}
                allowDeselect={false}
                w={200}
              />
            ) : (
              <Text size="sm">{current?.name}</Text>
            )}
            <Text size="sm" c="dimmed" visibleFrom="sm">
              {me.email} · {current?.role_label}
            </Text>
            <Button variant="default" size="xs" onClick={() => signOut.mutate()} loading={signOut.isPending}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main">
        <nav aria-label="Pages">
          {PAGES.map((page) => (
            <NavLink
              key={page.to}
              component={RouterLink}
              to={page.to}
              end={page.end}
              label={page.label}
              active={page.end ? location.pathname === page.to : location.pathname.startsWith(page.to)}
              onClick={close}
            />
          ))}
        </nav>
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1}>
        <Suspense fallback={null}>
          <Outlet />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
