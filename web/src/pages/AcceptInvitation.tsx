import { Alert, Button, Center, Paper, PasswordInput, Stack, TextInput, Title } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useNavigate, useParams } from "react-router";
import { api, APP_API, type Document } from "../lib/api";
import { forgetAllButMe, type Me } from "../lib/session";

export default function AcceptInvitation() {
  const { token = "" } = useParams();
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const client = useQueryClient();
  const navigate = useNavigate();
  const accept = useMutation({
    mutationFn: () =>
      api<Document<Me>>(`${APP_API}/invitations/accept`, {
        method: "POST",
        json: { data: { type: "invitation-acceptance", attributes: { token, password, name } } },
      }),
    onSuccess: (doc) => {
      forgetAllButMe(client, doc.data.attributes);
      navigate("/", { replace: true });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    accept.mutate();
  };
  return (
    <Center mih="100vh" p="md" component="main">
      <Paper withBorder p="xl" w={380} maw="100%">
        <form onSubmit={submit}>
          <Stack>
            <Title order={1} size="h3">
              Join an account
            </Title>
            {accept.error ? (
              <Alert color="red" role="alert">
                {accept.error.message}
              </Alert>
            ) : null}
            <TextInput label="Your name" value={name} onChange={(e) => setName(e.currentTarget.value)} />
            <PasswordInput
              label="Password"
              description="At least 10 characters; if you already have a user, its password"
              autoComplete="new-password"
              required
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
            />
            <Button type="submit" loading={accept.isPending}>
              Accept the invitation
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
